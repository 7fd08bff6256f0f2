"""A loopback fake of the Cloud API's `POST /{phone_number_id}/messages` that checks shapes.

It extends the messaging tests' FakeGraph: every request body is checked against the shapes
docs/messaging.md documents (text, interactive flow, template; plus the optional
`biz_opaque_callback_data`). A body that does not fit is answered as Meta answers an invalid
parameter (HTTP 400, code 100) and noted in `shape_errors`, so a test fails on it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.messaging.fake_graph import FakeGraph, Scripted

ENVELOPE = {"messaging_product", "recipient_type", "to", "type", "biz_opaque_callback_data"}


def shape_problems(body: Any) -> list[str]:
    """What in `body` does not match docs/messaging.md's request shapes."""
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    problems = []
    kind = body.get("type")
    extra = set(body) - ENVELOPE - {kind}
    if extra:
        problems.append(f"unexpected keys {sorted(extra)}")
    if body.get("messaging_product") != "whatsapp" or body.get("recipient_type") != "individual":
        problems.append("messaging_product/recipient_type")
    if not (isinstance(body.get("to"), str) and body["to"].isdigit()):
        problems.append("to must be digits")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        problems.append("biz_opaque_callback_data: a string of at most 512 characters")
    part = body.get(kind)
    if kind == "text":
        if not (isinstance(part, dict) and isinstance(part.get("body"), str)):
            problems.append("text.body")
        elif not 0 < len(part["body"]) <= 4096 or set(part) - {"body", "preview_url"}:
            problems.append("text: body of 1-4096 characters, preview_url")
    elif kind == "template":
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            problems.append("template.name")
        elif not isinstance((part.get("language") or {}).get("code"), str):
            problems.append("template.language.code")
    elif kind == "interactive":
        action = ((part or {}).get("action") or {}) if isinstance(part, dict) else {}
        params = action.get("parameters") or {}
        if part.get("type") != "flow" or action.get("name") != "flow":
            problems.append("interactive flow: type/action name")
        if params.get("flow_message_version") != "3" or not params.get("flow_token"):
            problems.append("interactive flow: flow_message_version 3 and a flow_token")
        if not (params.get("flow_id") or params.get("flow_name")) or not params.get("flow_cta"):
            problems.append("interactive flow: flow_id or flow_name, flow_cta")
        if not isinstance((part.get("body") or {}).get("text"), str):
            problems.append("interactive flow: body.text")
    else:
        problems.append(f"unknown type {kind!r}")
    return problems


class FakeCloud(FakeGraph):
    """FakeGraph with shape checks, receive times, and an optional hold before answering."""

    def __init__(self) -> None:
        super().__init__()
        self.shape_errors: list[str] = []
        self.received_at: list[float] = []
        self.hold = threading.Event()
        self.hold.set()  # cleared: requests are recorded, then wait before being answered
        self.latency = 0.0  # seconds each success waits (outside the lock), like Meta's RTT

    def _success(self, body: Any) -> Scripted:
        self.received_at.append(time.monotonic())
        problems = shape_problems(body)
        if problems:
            self.shape_errors.append("; ".join(problems))
            error = {
                "message": "(#100) Invalid parameter",
                "type": "OAuthException",
                "code": 100,
                "error_data": {"details": "; ".join(problems)},
                "fbtrace_id": "AbCdEfGh123",
            }
            return Scripted(400, json.dumps({"error": error}).encode())
        self.hold.wait(30)
        answer = super()._success(body)
        return Scripted(answer.status, answer.body, self.latency)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]
