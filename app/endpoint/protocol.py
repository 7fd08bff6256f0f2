"""The endpoint's small vocabulary: decrypted requests, answers, and the typed errors.

Handlers and the router speak in these terms; only `app/endpoint/service.py` turns them into
status codes and ciphertext. Parsing is tolerant (protocol.md §4: `screen` may be empty,
`data` absent, `flow_token` missing on some iOS devices) but never trusts a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INIT = "INIT"
BACK = "BACK"
DATA_EXCHANGE = "data_exchange"
PING = "ping"
SUCCESS = "SUCCESS"
ERROR_KEYS = ("error", "error_message", "error_key")  # pywa's has_error; Meta's key UNCONFIRMED


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class FlowRequest:
    """A decrypted request (protocol.md §4)."""

    action: str | None
    version: str | None = None
    screen: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    flow_token: str | None = None
    flow_token_signature: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FlowRequest:
        data = payload.get("data")
        return cls(
            action=_str(payload.get("action")),
            version=_str(payload.get("version")),
            screen=_str(payload.get("screen")),
            data=data if isinstance(data, dict) else {},
            flow_token=_str(payload.get("flow_token")),
            flow_token_signature=_str(payload.get("flow_token_signature")),
        )

    @property
    def is_ping(self) -> bool:
        return self.action == PING

    @property
    def is_error_notification(self) -> bool:
        return any(key in self.data for key in ERROR_KEYS)

    def error_report(self) -> dict[str, Any]:
        """What the client reported, trimmed to the known keys and short strings (for storage)."""
        report = {k: str(self.data[k])[:500] for k in ERROR_KEYS if k in self.data}
        report.update(action=self.action, screen=self.screen)
        return report


@dataclass(frozen=True)
class Answer:
    """Render `screen` with `data` (which must match the screen's data model)."""

    screen: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {"screen": self.screen, "data": self.data}


def ping_answer() -> dict[str, Any]:
    return {"data": {"status": "active"}}


def acknowledgement() -> dict[str, Any]:
    return {"data": {"acknowledged": True}}


def success_answer(params: dict[str, Any]) -> dict[str, Any]:
    """Close the flow; `params` reach the business in the nfm_reply's response_json."""
    return {"screen": SUCCESS, "data": {"extension_message_response": {"params": params}}}


def token_error_body(message: str) -> dict[str, Any]:
    return {"error_msg": message}


class EndpointError(Exception):
    """Base of the errors a handler (or the router) raises to steer the answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenRejected(EndpointError):
    """Answer 427 with an encrypted `{"error_msg": message}`; the client disables the CTA."""


class ScreenError(EndpointError):
    """Re-render the current screen with `error_message` (a snackbar on the client).

    `fields` names the offending inputs for the log; only `message` reaches the user.
    """

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class AnswerViolation(EndpointError):
    """An answer the client would reject (invalid-screen-transition, payload-schema-error).

    Raised only when `config.testing`; in production the violation is logged and replaced.
    """
