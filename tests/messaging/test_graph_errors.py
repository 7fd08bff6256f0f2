"""Graph API failures, through the real client against the loopback fake: Meta's error
object mapped to a 502 with its code and message, 131047 closing the window like the status
webhook does, unusable answers, and the access token never logged or echoed."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app.db import Database
from app.messaging.graph import (
    GraphApiError,
    GraphClient,
    GraphUnreachable,
    SendingNotConfigured,
    sent_message_id,
)
from app.models import OutboundMessage
from tests.leads.meta import T0, post, text_message
from tests.messaging.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, WA, open_window
from tests.messaging.fake_graph import FakeGraph

PATH = "/api/v1/messages"
TEXT = {"wa_id": WA, "type": "text", "text": "Hello"}
TEMPLATE = {"wa_id": WA, "type": "template", "template": {"name": "hello", "language": "en"}}
RE_ENGAGEMENT = (
    "More than 24 hours have passed since the recipient last replied to the sender number."
)


def window(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/contacts/{WA}/window", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def stored(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OutboundMessage.id)))


def test_meta_error_is_a_502_with_metas_code_and_message(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    graph.error(
        132001, "(#132001) Template name does not exist in the translation", error_subcode=2494073
    )
    response = sender.post(PATH, json=TEMPLATE, headers=api_headers)
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "graph_api_error"
    assert error["details"] == {
        "http_status": 400,
        "code": 132001,
        "subcode": 2494073,
        "type": "OAuthException",
        "message": "(#132001) Template name does not exist in the translation",
        "details": None,
        "fbtrace_id": "AbCdEfGh123",
    }
    assert "132001" in error["message"]
    assert stored(db) == []
    assert window(sender, api_headers)["closed_reason"] == "no_inbound_message"


def test_131047_closes_the_window_like_the_status_webhook(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    assert window(sender, api_headers)["window_open"] is True
    graph.error(131047, "Re-engagement message", error_data={"details": RE_ENGAGEMENT})
    response = sender.post(PATH, json=TEXT, headers=api_headers)
    assert response.status_code == 502
    details = response.get_json()["error"]["details"]
    assert (details["code"], details["details"]) == (131047, RE_ENGAGEMENT)
    state = window(sender, api_headers)
    assert (state["window_open"], state["closed_reason"]) == (False, "re_engagement_error")
    # Now refused locally without asking Meta again.
    again = sender.post(PATH, json=TEXT, headers=api_headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["closed_reason"] == "re_engagement_error"
    assert len(graph.requests) == 1 and stored(db) == []
    # A newer inbound message reopens it, as for a 131047 status.
    assert post(sender, text_message(WA, "wamid.in2", T0 + 7200)).status_code == 200
    assert window(sender, api_headers)["window_open"] is True
    assert sender.post(PATH, json=TEXT, headers=api_headers).status_code == 201


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b"<html>Internal error</html>", "unexpected_answer"),
        (200, b"not json", "unexpected_answer"),
        (200, {"messaging_product": "whatsapp", "messages": []}, "no_message_id"),
        (200, {"messages": [{"id": ""}]}, "no_message_id"),
    ],
)
def test_unusable_answers_are_502_and_store_nothing(
    sender: FlaskClient,
    api_headers: dict[str, str],
    graph: FakeGraph,
    db: Database,
    status: int,
    body: Any,
    reason: str,
) -> None:
    graph.answer(status, body)
    response = sender.post(PATH, json=TEMPLATE, headers=api_headers)
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert (error["code"], error["details"]["reason"]) == ("graph_api_unreachable", reason)
    assert stored(db) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_and_timeout() -> None:
    refused = GraphClient(f"http://127.0.0.1:{_closed_port()}/v23.0", PHONE_NUMBER_ID, ACCESS_TOKEN)
    with pytest.raises(GraphUnreachable) as caught:
        refused.send({"to": WA})
    # The error names the URL tried (never the access token) and is logged.
    assert caught.value.details == {"reason": "ConnectError", "url": refused.messages_url}
    assert refused.messages_url in caught.value.message
    assert ACCESS_TOKEN not in caught.value.message
    with FakeGraph() as graph:
        graph.answer(200, {"messages": [{"id": "wamid.late"}]}, delay=1.0)
        slow = GraphClient(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, timeout=0.2)
        with pytest.raises(GraphUnreachable) as caught:
            slow.send({"to": WA})
        assert caught.value.details == {"reason": "timeout", "url": slow.messages_url}
        assert caught.value.status == 502


def test_client_maps_a_success_and_quotes_the_phone_number_id() -> None:
    with FakeGraph() as graph:
        client = GraphClient(graph.url + "/", "12/34", ACCESS_TOKEN)
        assert sent_message_id(client.send({"to": WA})) == "wamid.FAKE0001"
        assert graph.requests[0].path == "/v23.0/12%2F34/messages"
        graph.error(190, "Invalid OAuth access token", status=401)
        with pytest.raises(GraphApiError) as caught:
            client.send({"to": WA})
        assert (caught.value.meta_code, caught.value.details["http_status"]) == (190, 401)
    assert ACCESS_TOKEN not in repr(client)


def test_the_access_token_is_never_logged_or_echoed(
    sender: FlaskClient,
    api_headers: dict[str, str],
    graph: FakeGraph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    open_window(sender)
    ok = sender.post(PATH, json=TEXT, headers=api_headers)
    graph.error(131047, "Re-engagement message")
    refused = sender.post(PATH, json=TEXT, headers=api_headers)
    assert (ok.status_code, refused.status_code) == (201, 502)
    assert caplog.records, "DEBUG logging of httpx/httpcore and ours was captured"
    assert ACCESS_TOKEN not in caplog.text
    assert ACCESS_TOKEN not in ok.get_data(as_text=True) + refused.get_data(as_text=True)
    assert graph.requests[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_a_send_that_cannot_be_recorded_still_names_its_wamid(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    """Meta accepted, our database did not: the caller learns the wamid, not a bare 500."""
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE outbound_messages"))
    response = sender.post(PATH, json=TEMPLATE, headers=api_headers)
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "sent_not_recorded"
    assert error["details"] == {"id": "wamid.FAKE0001", "wa_id": WA}
    assert len(graph.requests) == 1


@pytest.mark.parametrize("url", ["http://", "ftp://127.0.0.1/v23.0", "127.0.0.1:9"])
def test_an_unusable_graph_url_is_not_configured(url: str) -> None:
    with pytest.raises(SendingNotConfigured) as caught:
        GraphClient(url, PHONE_NUMBER_ID, ACCESS_TOKEN).send({"to": WA})
    assert caught.value.status == 503
