"""Malformed notifications: 400 when the body is not a notification, 200 with notes when
only items inside it are wrong; never a 500, always kept for inspection (docs/leads.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.db import Database
from app.models import Contact, InboundNotification, OutboundMessage, Submission
from tests.leads.meta import (
    LEAD,
    T0,
    counts,
    event_types,
    messages_change,
    nfm_reply,
    one,
    post,
    token_for,
)

WA = "5511912345678"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"this is not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"object": "whatsapp_business_account"}', "`entry`"),
        (b'{"object": "whatsapp_business_account", "entry": {"id": 1}}', "`entry`"),
    ],
)
def test_unreadable_body_is_400_and_kept_invalid(
    client: FlaskClient, db: Database, body: bytes, problem: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "malformed_notification"
    assert problem in error["message"]
    row = one(db, InboundNotification)
    assert (row.status, row.body) == ("invalid", body)
    assert error["details"]["notification_id"] == row.id
    assert post(client, body).status_code == 400  # a redelivery is not stored twice
    assert counts(db)["notifications"] == 1


@pytest.mark.parametrize(
    ("payload", "note"),
    [
        ({"object": "whatsapp_business_account", "entry": [1, {"changes": "x"}]}, "entry[0]"),
        ({"entry": [{"changes": [None, {"field": "messages", "value": [1]}]}]}, "changes[0]"),
        ({"object": "page", "entry": []}, "ignored"),
        (messages_change({"messages": [7]}), "not an object"),
        (messages_change({"statuses": [{"id": "x"}]}), "status without"),
        (
            {"entry": [{"changes": [{"field": "account_update", "value": {"x": 1}}]}]},
            "not handled",
        ),
    ],
)
def test_wrong_shapes_inside_are_200_with_notes(
    client: FlaskClient, db: Database, payload: dict[str, Any], note: str
) -> None:
    response = post(client, payload)
    assert response.status_code == 200
    row = one(db, InboundNotification)
    assert row.status == "processed"
    assert note in (row.error or "")


def test_unknown_message_type_counts_as_inbound_and_is_noted(
    client: FlaskClient, db: Database
) -> None:
    payload = messages_change(
        {
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": WA}],
            "messages": [{"from": WA, "id": "wamid.h", "timestamp": str(T0), "type": "hologram"}],
        }
    )
    assert post(client, payload).status_code == 200
    assert one(db, Contact).last_inbound_at is not None
    assert "unknown message type 'hologram'" in (one(db, InboundNotification).error or "")


def test_wrong_types_in_a_message_never_fail(client: FlaskClient, db: Database) -> None:
    payload = messages_change(
        {
            "contacts": [{"profile": "Ana", "wa_id": 5}],
            "messages": [
                {"from": 12345, "id": ["x"], "timestamp": "yesterday", "type": "text"},
                {"from": WA, "id": "wamid.t", "timestamp": True, "type": 3},
                {"from": WA, "type": "interactive", "interactive": {"type": "nfm_reply"}},
            ],
        }
    )
    assert post(client, payload).status_code == 200
    row = one(db, InboundNotification)
    assert row.status == "processed"
    assert "without a usable sender" in row.error
    assert "without a usable timestamp" in row.error
    assert "nfm_reply is not an object" in row.error
    contact = one(db, Contact)
    assert (contact.wa_id, contact.last_inbound_at) == (WA, None)  # no time: window unchanged


@pytest.mark.parametrize("response_json", ["{not json", "[1, 2]", 42])
def test_response_json_that_is_not_an_object_is_an_invalid_lead(
    client: FlaskClient, db: Database, response_json: Any
) -> None:
    with db.transaction() as session:
        session.add(OutboundMessage(id="wamid.flow", wa_id=WA, kind="flow", flow="lead_capture"))
    payload = nfm_reply(LEAD, context_id="wamid.flow")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"]["nfm_reply"]["response_json"] = response_json
    assert post(client, payload).status_code == 200
    sub = one(db, Submission)
    assert (sub.status, sub.fields) == ("invalid", {})
    assert sub.errors[0]["code"] == "malformed_response_json"
    assert event_types(db) == ["submission.invalid"]
    assert "response_json" in (one(db, InboundNotification).error or "")


def test_response_json_as_an_object_is_tolerated(client: FlaskClient, db: Database) -> None:
    payload = nfm_reply(LEAD)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"]["nfm_reply"]["response_json"] = {**LEAD, "flow_token": token_for(WA)}
    assert post(client, payload).status_code == 200
    assert one(db, Submission).status == "valid"


def test_nfm_reply_without_message_id_is_still_one_lead(client: FlaskClient, db: Database) -> None:
    payload = nfm_reply(LEAD, token=token_for(WA))
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert post(client, payload).status_code == 200
    with db.transaction() as session:  # force a second processing of the same row
        session.get(InboundNotification, one(db, InboundNotification).id).status = "failed"
    assert post(client, payload).status_code == 200
    assert counts(db)["submissions"] == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["object", "entry", "changes", "field", "value", "messages", "statuses", "contacts",
     "from", "id", "timestamp", "type", "interactive", "nfm_reply", "response_json", "errors"]
)  # fmt: skip
_shaped = st.recursive(
    st.none() | st.integers() | st.text(max_size=6) | st.just("messages") | st.just("nfm_reply"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entry=_shaped | _json)
def test_arbitrary_json_is_never_a_500(client: FlaskClient, db: Database, entry: Any) -> None:
    payload = {"object": "whatsapp_business_account", "entry": [entry]}
    response = post(client, json.dumps(payload).encode())
    assert response.status_code == 200
    with db.session() as session:
        statuses = set(session.scalars(select(InboundNotification.status)))
    assert statuses <= {"processed"}


@pytest.mark.parametrize("constant", ["1e400", "NaN", "-Infinity"])
def test_numbers_json_cannot_store_are_kept_as_text(
    client: FlaskClient, db: Database, constant: str
) -> None:
    response_json = json.dumps({**LEAD, "flow_token": token_for(WA)})[:-1] + f', "x": {constant}}}'
    payload = nfm_reply({})
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"]["nfm_reply"]["response_json"] = response_json
    assert post(client, payload).status_code == 200
    sub = one(db, Submission)
    assert sub.fields["x"] == constant  # kept, as text
    assert ("x", "unexpected") in {(e["field"], e["code"]) for e in sub.errors}
    # The envelope itself may carry them too (here in a status): still processed.
    status = messages_change(
        {"statuses": [{"id": "w.s", "status": "sent", "timestamp": str(T0), "x": 1}]}
    )
    body = json.dumps(status).replace('"x": 1', f'"x": {constant}').encode()
    assert post(client, body).status_code == 200
    with db.session() as session:
        assert set(session.scalars(select(InboundNotification.status))) == {"processed"}


@pytest.mark.parametrize("where", ["field", "profile_name", "status"])
def test_lone_surrogates_become_replacement_characters(
    client: FlaskClient, db: Database, where: str
) -> None:
    fields = {**LEAD, "name": "Ana\ud800 Souza"} if where == "field" else LEAD
    payload = nfm_reply(fields, token=token_for(WA), name="A\udfffna")
    if where == "status":
        payload = messages_change(
            {"statuses": [{"id": "w\udc00", "status": "sent", "timestamp": str(T0)}]}
        )
    body = json.dumps(payload).encode()  # ASCII with \\ud800 escapes, as Meta could send
    assert post(client, body).status_code == 200
    assert one(db, InboundNotification).status == "processed"
    if where != "status":
        sub = one(db, Submission)
        assert sub.contact_name == "A\ufffdna"
        assert sub.fields["name"] == ("Ana\ufffd Souza" if where == "field" else LEAD["name"])
