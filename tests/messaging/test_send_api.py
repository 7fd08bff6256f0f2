"""POST /api/v1/messages through a real loopback fake of the Graph API: exact bodies per
docs/protocol.md §10, the 24-hour window, issued tokens, stored OutboundMessages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import clock
from app.crypto.tokens import verify_token
from app.db import Database
from app.models import Contact, OutboundMessage
from tests.leads.meta import TOKEN_SECRET, post, status
from tests.messaging.conftest import ACCESS_TOKEN, AT, PHONE_NUMBER_ID, WA, open_window
from tests.messaging.fake_graph import API_VERSION, FakeGraph

PATH = "/api/v1/messages"
FLOW_REQUEST = {
    "wa_id": WA,
    "type": "flow",
    "flow": "lead_capture",
    "meta_flow_id": "1234567890",
    "body": "Tell us how to reach you",
    "cta": "Open form",
}
TEMPLATE = {"name": "callback_offer", "language": "en_US"}


def send(client: FlaskClient, headers: dict[str, str], payload: dict[str, Any]) -> Any:
    return client.post(PATH, json=payload, headers=headers)


def outbound(db: Database) -> list[OutboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.sent_at)))


def test_text_inside_the_window(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    response = send(sender, api_headers, {"wa_id": WA, "type": "text", "text": "Hello Ana"})
    assert response.status_code == 201, response.get_json()
    assert len(graph.requests) == 1
    request = graph.requests[0]
    assert request.path == f"/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA,
        "type": "text",
        "text": {"preview_url": False, "body": "Hello Ana"},
    }
    assert response.get_json() == {
        "id": "wamid.FAKE0001",
        "wa_id": WA,
        "type": "text",
        "sent_as": "text",
        "flow": None,
        "flow_token": None,
        "sent_at": "2026-09-21T15:13:20Z",
        "window": {
            "open": True,
            "last_inbound_at": "2026-09-21T14:13:20Z",
            "expires_at": "2026-09-22T14:13:20Z",
            "closed_reason": None,
        },
    }
    [row] = outbound(db)
    assert (row.id, row.wa_id, row.kind, row.flow, row.flow_token) == (
        "wamid.FAKE0001",
        WA,
        "text",
        None,
        None,
    )
    assert row.payload == request.body
    # Sending never extends the window.
    with db.session() as session:
        contact = session.get(Contact, WA)
        assert contact is not None and contact.last_inbound_at == AT


CLOSED = ["unknown", "expired", "re_engagement_error"]


@pytest.mark.parametrize("case", CLOSED)
@pytest.mark.parametrize(
    "payload", [{"wa_id": WA, "type": "text", "text": "Hi"}, FLOW_REQUEST], ids=["text", "flow"]
)
def test_free_form_is_refused_outside_the_window(
    sender: FlaskClient,
    api_headers: dict[str, str],
    graph: FakeGraph,
    db: Database,
    case: str,
    payload: dict[str, Any],
) -> None:
    expected = {"unknown": None, "expired": "2026-09-22T14:13:20Z"}
    if case != "unknown":
        open_window(sender)
    if case == "expired":
        clock.set_now(AT + timedelta(hours=24))  # exactly 24 h: closed
    if case == "re_engagement_error":
        failed = status("wamid.old", WA, "failed", int(AT.timestamp()) + 60, code=131047)
        assert post(sender, failed).status_code == 200
    response = send(sender, api_headers, payload)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "window_closed"
    reason = "no_inbound_message" if case == "unknown" else case
    assert error["details"]["closed_reason"] == reason
    assert error["details"]["expires_at"] == expected.get(case, "2026-09-22T14:13:20Z")
    assert reason in error["message"]
    if case == "unknown":  # never seen: no expiry to name, and no "None" in the sentence
        assert "None" not in error["message"] and "has not written yet" in error["message"]
    else:
        assert "expires_at" in error["message"]
    assert graph.requests == []  # Meta is never asked
    assert outbound(db) == []


def test_one_second_before_expiry_is_still_open(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph
) -> None:
    open_window(sender)
    clock.set_now(AT + timedelta(hours=24, seconds=-1))
    assert send(sender, api_headers, {"wa_id": WA, "type": "text", "text": "Hi"}).status_code == 201
    assert len(graph.requests) == 1


def test_template_goes_out_whatever_the_window(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    payload = {"wa_id": "491700000000", "type": "template"}
    payload["template"] = {**TEMPLATE, "components": components}
    response = send(sender, api_headers, payload)
    assert response.status_code == 201, response.get_json()
    assert graph.requests[0].body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491700000000",
        "type": "template",
        "template": {
            "name": "callback_offer",
            "language": {"code": "en_US"},
            "components": components,
        },
    }
    body = response.get_json()
    assert body["window"] == {
        "open": False,
        "last_inbound_at": None,
        "expires_at": None,
        "closed_reason": "no_inbound_message",
    }
    assert [(r.kind, r.flow) for r in outbound(db)] == [("template", None)]
    with db.session() as session:  # an outbound message creates no contact and opens nothing
        assert session.get(Contact, "491700000000") is None


def test_flow_message_issues_a_bound_token(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    request = {**FLOW_REQUEST, "header": "Callback", "footer": "Takes 1 minute"}
    response = send(sender, api_headers, request)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    token = answer["flow_token"]
    claims = verify_token(TOKEN_SECRET, token, flow="lead_capture")
    assert (claims.flow, claims.wa_id) == ("lead_capture", WA)
    assert claims.expires_at == clock.now().replace(microsecond=0) + timedelta(hours=72)
    assert graph.requests[0].body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA,
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "header": {"type": "text", "text": "Callback"},
            "body": {"text": "Tell us how to reach you"},
            "footer": {"text": "Takes 1 minute"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": token,
                    "flow_id": "1234567890",
                    "flow_cta": "Open form",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "LEAD_FORM"},
                    "mode": "published",
                },
            },
        },
    }
    assert (answer["type"], answer["flow"], answer["id"]) == (
        "flow",
        "lead_capture",
        "wamid.FAKE0001",
    )
    [row] = outbound(db)
    assert (row.kind, row.flow, row.flow_token) == ("flow", "lead_capture", token)


def test_flow_message_by_meta_name_with_a_given_token_and_draft_mode(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    request = {**FLOW_REQUEST, "flow_token": "crm-run-42", "mode": "draft"}
    del request["meta_flow_id"]
    request["meta_flow_name"] = "lead_capture_v2"
    response = send(sender, api_headers, request)
    assert response.status_code == 201, response.get_json()
    parameters = graph.requests[0].body["interactive"]["action"]["parameters"]
    assert parameters["flow_name"] == "lead_capture_v2" and "flow_id" not in parameters
    assert (parameters["flow_token"], parameters["mode"]) == ("crm-run-42", "draft")
    assert outbound(db)[0].flow_token == "crm-run-42"


def test_endpoint_flow_defaults_to_data_exchange(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph
) -> None:
    open_window(sender)
    request = {**FLOW_REQUEST, "flow": "appointment", "cta": "Book!"}
    assert send(sender, api_headers, request).status_code == 201
    parameters = graph.requests[0].body["interactive"]["action"]["parameters"]
    assert parameters["flow_action"] == "data_exchange"
    assert "flow_action_payload" not in parameters


APPOINTMENT_DATA = {
    "department": [{"id": "cardiology", "title": "Cardiology"}],
    "location": [{"id": "riverside", "title": "Riverside"}],
    "is_location_enabled": True,
    "date": [{"id": "2027-01-04", "title": "Mon 4 Jan"}],
    "is_date_enabled": True,
    "time": [{"id": "09:00", "title": "09:00"}],
    "is_time_enabled": True,
}


def test_navigate_sends_the_entry_screen_with_the_callers_data(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph
) -> None:
    open_window(sender)
    request = {**FLOW_REQUEST, "flow": "appointment", "flow_action": "navigate"}
    missing = send(sender, api_headers, request)  # the __example__ values are never sent
    assert missing.status_code == 400
    assert missing.get_json()["error"]["details"]["data.department"] == [
        "required by screen APPOINTMENT"
    ]
    wrong = send(
        sender, api_headers, {**request, "data": {**APPOINTMENT_DATA, "is_date_enabled": "y"}}
    )
    assert set(wrong.get_json()["error"]["details"]) == {"data.is_date_enabled"}
    extra = send(sender, api_headers, {**request, "data": {**APPOINTMENT_DATA, "x": 1}})
    assert set(extra.get_json()["error"]["details"]) == {"data.x"}
    assert graph.requests == []
    response = send(sender, api_headers, {**request, "data": APPOINTMENT_DATA})
    assert response.status_code == 201, response.get_json()
    parameters = graph.requests[0].body["interactive"]["action"]["parameters"]
    assert parameters["flow_action"] == "navigate"
    assert parameters["flow_action_payload"] == {"screen": "APPOINTMENT", "data": APPOINTMENT_DATA}


def test_template_with_a_flow_button(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    header = {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]}
    payload = {
        "wa_id": WA,
        "type": "template",
        "flow": "lead_capture",
        "data": {"source": "newsletter"},
        "ttl_seconds": 3600,
        "template": {**TEMPLATE, "components": [header], "flow_button_index": 1},
    }
    response = send(sender, api_headers, payload)
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["flow_token"]
    claims = verify_token(TOKEN_SECRET, token, flow="lead_capture")
    assert claims.wa_id == WA
    assert graph.requests[0].body["template"]["components"] == [
        header,
        {
            "type": "button",
            "sub_type": "flow",
            "index": "1",
            "parameters": [
                {
                    "type": "action",
                    "action": {"flow_token": token, "flow_action_data": {"source": "newsletter"}},
                }
            ],
        },
    ]
    [row] = outbound(db)
    assert (row.kind, row.flow, row.flow_token) == ("template", "lead_capture", token)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"wa_id": WA, "type": "text"}, "text"),
        ({"wa_id": WA, "type": "text", "text": "x", "flow": "lead_capture"}, "flow"),
        ({**FLOW_REQUEST, "text": "x"}, "text"),
        ({**FLOW_REQUEST, "flow": "no_such_flow"}, "flow"),
        ({**FLOW_REQUEST, "meta_flow_name": "both"}, "meta_flow_name"),
        ({k: v for k, v in FLOW_REQUEST.items() if k != "cta"}, "cta"),
        ({**FLOW_REQUEST, "flow_action": "data_exchange"}, "flow_action"),  # no endpoint
        ({**FLOW_REQUEST, "screen": "NOPE"}, "screen"),
        ({**FLOW_REQUEST, "flow_token": "t", "ttl_seconds": 60}, "ttl_seconds"),
        ({"wa_id": WA, "type": "template"}, "template"),
        ({"wa_id": WA, "type": "template", "template": TEMPLATE, "flow_token": "t"}, "flow_token"),
        (
            {
                "wa_id": WA,
                "type": "template",
                "flow": "lead_capture",
                "template": {
                    **TEMPLATE,
                    "components": [{"type": "BUTTON", "sub_type": "flow", "index": 0}],
                },
            },
            "template.components",
        ),
        ({"wa_id": "+55 11", "type": "text", "text": "x"}, "wa_id"),
        ({"wa_id": WA, "type": "sms", "text": "x"}, "type"),
    ],
)
def test_bad_requests_name_the_field_and_send_nothing(
    sender: FlaskClient,
    api_headers: dict[str, str],
    graph: FakeGraph,
    db: Database,
    payload: dict[str, Any],
    field: str,
) -> None:
    open_window(sender)
    response = send(sender, api_headers, payload)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["details"]
    assert graph.requests == [] and outbound(db) == []


def test_sending_not_configured_is_503(
    client: FlaskClient, api_headers: dict[str, str], db: Database
) -> None:
    """The default test app has no Cloud API access: nothing can leave the machine."""
    response = send(client, api_headers, {"wa_id": WA, "type": "template", "template": TEMPLATE})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "sending_not_configured"
    assert send(client, api_headers, {"wa_id": WA, "type": "text"}).status_code == 400
    assert outbound(db) == []


def test_sending_needs_the_bearer_token(sender: FlaskClient, graph: FakeGraph) -> None:
    response = sender.post(PATH, json={"wa_id": WA, "type": "text", "text": "x"})
    assert response.status_code == 401
    assert graph.requests == []


def test_outbound_count_matches_sends(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    for n in range(3):
        assert (
            send(sender, api_headers, {"wa_id": WA, "type": "text", "text": f"m{n}"}).status_code
            == 201
        )
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 3
    assert [r.body["text"]["body"] for r in graph.requests] == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"wa_id": "<WA>", "type": "text", "text": "caf\\ud800"}', "text"),
        (
            '{"wa_id": "<WA>", "type": "template", "template": {"name": "t", "language": "en",'
            ' "components": [{"type": "body", "x": NaN}]}}',
            "template",
        ),
        (
            '{"wa_id": "<WA>", "type": "template", "flow": "lead_capture",'
            ' "template": {"name": "t", "language": "en"}, "data": {"n": Infinity}}',
            "data",
        ),
    ],
)
def test_unsendable_json_is_refused_not_a_500(
    sender: FlaskClient,
    api_headers: dict[str, str],
    graph: FakeGraph,
    db: Database,
    raw: str,
    field: str,
) -> None:
    open_window(sender)
    headers = {**api_headers, "Content-Type": "application/json"}
    response = sender.post(PATH, data=raw.replace("<WA>", WA).encode(), headers=headers)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["error"]["details"]
    assert graph.requests == [] and outbound(db) == []
