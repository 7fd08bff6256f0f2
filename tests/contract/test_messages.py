"""docs/contract.md "Sending" with protocol.md §9.1/§10: the window decides what may be sent,
the Cloud API request goes to FLOWGATE_GRAPH_API_URL (here a loopback fake written for this
test), and an iOS reply without flow_token is matched by `context.id`."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import make_config
from tests.contract.wire import AUTH, LEAD_FIELDS, nfm_reply, post_meta, text_message

PHONE_ID = "1234567890"
ACCESS = "test-graph-access-token"


class FakeGraph:
    """Answers POST /<phone id>/messages like the Cloud API, recording every request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        ids = itertools.count(1)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw)
                owner.calls.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.OUT{next(ids)}"}],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v23.0"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def sender(settings, db, graph) -> Iterator[FlaskClient]:  # type: ignore[no-untyped-def]
    config = {
        **settings,
        "FLOWGATE_GRAPH_API_URL": graph.url,
        "FLOWGATE_ACCESS_TOKEN": ACCESS,
        "FLOWGATE_PHONE_NUMBER_ID": PHONE_ID,
    }
    app = create_app(make_config(config))
    yield app.test_client()
    app.extensions["flowgate"].db.dispose()


def _inbound(client: FlaskClient, wa_id: str) -> None:
    sent = int(datetime.now(UTC).timestamp()) - 60
    assert post_meta(client, text_message(wa_id, timestamp=sent)).status_code == 200


def test_text_outside_the_window_is_refused_without_calling_meta(sender, graph) -> None:  # type: ignore[no-untyped-def]
    res = sender.post(
        "/api/v1/messages",
        json={"wa_id": "447700911001", "type": "text", "text": "hi"},
        headers=AUTH,
    )
    assert 400 <= res.status_code < 500
    body = res.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert graph.calls == []


def test_text_inside_the_window_goes_to_the_cloud_api(sender, graph) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700911002"
    _inbound(sender, wa_id)
    before = sender.get(f"/api/v1/contacts/{wa_id}/window", headers=AUTH).get_json()
    res = sender.post(
        "/api/v1/messages", json={"wa_id": wa_id, "type": "text", "text": "Hello Ada"}, headers=AUTH
    )
    assert res.status_code in (200, 201, 202), res.get_data(as_text=True)
    ((path, headers, body),) = graph.calls
    assert path == f"/v23.0/{PHONE_ID}/messages"
    assert headers["authorization"] == f"Bearer {ACCESS}"
    assert body["messaging_product"] == "whatsapp" and body["to"] == wa_id
    assert body["type"] == "text" and body["text"]["body"] == "Hello Ada"
    after = sender.get(f"/api/v1/contacts/{wa_id}/window", headers=AUTH).get_json()
    assert after == before  # our own messages never extend the window (protocol.md §10.1)


def test_template_is_allowed_whatever_the_window(sender, graph) -> None:  # type: ignore[no-untyped-def]
    res = sender.post(
        "/api/v1/messages",
        json={
            "wa_id": "447700911003",
            "type": "template",
            "template": {"name": "callback_offer", "language": "en_US", "components": []},
        },
        headers=AUTH,
    )
    assert res.status_code in (200, 201, 202), res.get_data(as_text=True)
    ((_, _, body),) = graph.calls
    assert body["type"] == "template" and body["template"]["name"] == "callback_offer"


def test_ios_reply_without_flow_token_is_matched_by_context_id(sender, graph) -> None:  # type: ignore[no-untyped-def]
    """protocol.md §9.1: some iOS replies carry no flow_token; context.id names our message."""
    wa_id = "447700911004"
    _inbound(sender, wa_id)
    res = sender.post(
        "/api/v1/messages",
        json={
            "wa_id": wa_id,
            "type": "flow",
            "flow": "lead_capture",
            "meta_flow_id": "998877",
            "body": "Tell us how to reach you",
            "cta": "Open form",
        },
        headers=AUTH,
    )
    assert res.status_code in (200, 201, 202), res.get_data(as_text=True)
    ((_, _, body),) = graph.calls
    assert body["type"] == "interactive" and body["interactive"]["type"] == "flow"
    wamid = res.get_json()["id"]
    assert wamid.startswith("wamid.OUT")
    note = nfm_reply(wa_id, dict(LEAD_FIELDS), context_id=wamid)
    assert post_meta(sender, note).status_code == 200
    items = sender.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert [(i["flow"], i["wa_id"]) for i in items] == [("lead_capture", wa_id)]
    assert items[0]["fields"] == LEAD_FIELDS
