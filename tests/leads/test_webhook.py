"""`/webhooks/whatsapp`: handshake, signatures, store-then-process, nfm_reply leads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.crypto.signatures import hub_signature
from app.db import Database
from app.models import Contact, Delivery, Event, InboundNotification, OutboundMessage, Submission
from tests.conftest import ROOT, make_config
from tests.leads.meta import (
    LEAD,
    T0,
    add_endpoint,
    counts,
    event_types,
    nfm_reply,
    one,
    post,
    token_for,
)

WA = "5511912345678"


def test_handshake_answers_the_challenge_as_plain_text(client: FlaskClient) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "8"}
    response = client.get("/webhooks/whatsapp", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "8"


def test_handshake_refuses_wrong_token_mode_or_missing_challenge(client: FlaskClient) -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "8"}
    for change in (
        {"hub.verify_token": "nope"},
        {"hub.mode": "unsubscribe"},
        {"hub.challenge": ""},
    ):
        response = client.get("/webhooks/whatsapp", query_string={**good, **change})
        assert response.status_code == 403
        assert "8" not in response.get_data(as_text=True)


def test_handshake_fails_closed_without_a_verify_token(
    settings: dict[str, str], db: Database
) -> None:
    app = create_app(make_config({**settings, "FLOWGATE_VERIFY_TOKEN": ""}))
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "8"}
    try:
        assert app.test_client().get("/webhooks/whatsapp", query_string=query).status_code == 403
    finally:
        app.extensions["flowgate"].db.dispose()


def test_signed_nfm_reply_becomes_one_valid_lead_with_contact_and_outbox(
    client: FlaskClient, db: Database
) -> None:
    add_endpoint(db)
    token = token_for(WA)
    response = post(client, nfm_reply(LEAD, token=token, name="Ana Souza"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "processed"

    sub = one(db, Submission)
    assert (sub.flow, sub.status, sub.source) == ("lead_capture", "valid", "webhook")
    assert sub.fields == LEAD  # the flow token is not a field
    assert sub.errors == []
    assert (sub.wa_id, sub.contact_name, sub.flow_token) == (WA, "Ana Souza", token)
    assert sub.message_id == "wamid.reply1"
    assert sub.submitted_at == datetime.fromtimestamp(T0, UTC)

    contact = one(db, Contact)
    assert (contact.wa_id, contact.profile_name) == (WA, "Ana Souza")
    assert contact.last_inbound_at == datetime.fromtimestamp(T0, UTC)

    event = one(db, Event)
    body = json.loads(event.body)
    assert body["type"] == "flow.submitted"
    assert set(body["data"]) == {
        "submission_id", "flow", "flow_token", "wa_id", "contact_name", "submitted_at",
        "source", "fields", "window",
    }  # fmt: skip
    assert body["data"]["submission_id"] == sub.id
    assert body["data"]["fields"] == LEAD
    assert body["data"]["submitted_at"] == "2026-09-21T14:13:20Z"
    assert body["data"]["window"] == {"open": True, "expires_at": "2026-09-22T14:13:20Z"}
    delivery = one(db, Delivery)
    assert (delivery.event_id, delivery.status) == (event.id, "pending")
    assert one(db, InboundNotification).status == "processed"


def test_the_same_notification_twice_changes_nothing(client: FlaskClient, db: Database) -> None:
    add_endpoint(db)
    payload = nfm_reply(LEAD, token=token_for(WA))
    assert post(client, payload).status_code == 200
    before = counts(db)
    again = post(client, payload)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert counts(db) == before
    # Re-batched by Meta (other bytes, same message): still the same lead.
    rebatched = json.loads(json.dumps(payload))
    rebatched["entry"].append({"id": "1", "changes": []})
    assert post(client, rebatched).status_code == 200
    after = counts(db)
    assert after["notifications"] == before["notifications"] + 1
    assert {k: v for k, v in after.items() if k != "notifications"} == {
        k: v for k, v in before.items() if k != "notifications"
    }


def test_bad_or_missing_signature_stores_nothing(client: FlaskClient, db: Database) -> None:
    payload = nfm_reply(LEAD, token=token_for(WA))
    body = json.dumps(payload).encode()
    empty = counts(db)
    assert post(client, payload, secret="not-the-app-secret").status_code == 403
    assert post(client, payload, signature="sha256=" + "0" * 64).status_code == 403
    assert post(client, payload, signature="garbage").status_code == 403
    assert post(client, payload, signature="").status_code == 401
    # Signed over other bytes (re-serialised JSON) is not a signature of this body.
    other = hub_signature("test-app-secret", json.dumps(payload, indent=1).encode())
    assert post(client, body, signature=other).status_code == 403
    assert counts(db) == empty


def test_every_configured_app_secret_verifies_during_a_rotation(
    settings: dict[str, str], db: Database
) -> None:
    app = create_app(make_config({**settings, "FLOWGATE_APP_SECRET": "old-secret, new-secret"}))
    try:
        client = app.test_client()
        first = nfm_reply(LEAD, token=token_for(WA), message_id="wamid.a")
        second = nfm_reply(LEAD, token=token_for(WA), message_id="wamid.b")
        assert post(client, first, secret="old-secret").status_code == 200
        assert post(client, second, secret="new-secret").status_code == 200
        assert post(client, second, secret="test-app-secret").status_code == 403
        assert counts(db)["submissions"] == 2
    finally:
        app.extensions["flowgate"].db.dispose()


def test_schema_breaking_submission_is_kept_invalid_with_readable_errors(
    client: FlaskClient, db: Database
) -> None:
    add_endpoint(db)
    broken = {**LEAD, "email": "not an email", "service": "teleport", "shoe_size": 44}
    del broken["phone"]
    assert post(client, nfm_reply(broken, token=token_for(WA))).status_code == 200
    sub = one(db, Submission)
    assert sub.status == "invalid"
    assert sub.fields == broken  # kept as sent
    by_field = {(e["field"], e["code"]): e["message"] for e in sub.errors}
    assert by_field[("phone", "required")] == "This field is required."
    assert by_field[("email", "format")] == "Is not a valid email."
    assert by_field[("service", "enum")].startswith("Must be one of: consultation")
    assert by_field[("shoe_size", "unexpected")] == "This is not a field of this form."
    assert event_types(db) == ["submission.invalid"]
    assert counts(db)["deliveries"] == 0  # the endpoint subscribes to flow.submitted only


def test_token_of_another_contact_is_stored_invalid(client: FlaskClient, db: Database) -> None:
    add_endpoint(db)
    payload = nfm_reply(LEAD, token=token_for("4915112345678"), wa_id=WA)
    assert post(client, payload).status_code == 200
    sub = one(db, Submission)
    assert (sub.status, sub.wa_id) == ("invalid", WA)
    assert [e["code"] for e in sub.errors] == ["token_wa_id_mismatch"]
    assert event_types(db) == ["submission.invalid"]


def test_nul_characters_are_removed_on_intake(client: FlaskClient, db: Database) -> None:
    fields = {**LEAD, "name": "Ana\x00 Souza"}
    assert post(client, nfm_reply(fields, token=token_for(WA), name="A\x00na")).status_code == 200
    sub = one(db, Submission)
    assert sub.fields["name"] == "Ana Souza"
    assert sub.status == "valid"
    assert (sub.contact_name, one(db, Contact).profile_name) == ("Ana", "Ana")


def test_ios_reply_without_token_is_found_through_the_flow_message_we_sent(
    client: FlaskClient, db: Database
) -> None:
    token = token_for(WA)
    with db.transaction() as session:
        session.add(
            OutboundMessage(
                id="wamid.flowmsg", wa_id=WA, kind="flow", flow="lead_capture", flow_token=token
            )
        )
    assert post(client, nfm_reply(LEAD, context_id="wamid.flowmsg")).status_code == 200
    sub = one(db, Submission)
    assert (sub.flow, sub.status, sub.flow_token) == ("lead_capture", "valid", token)


def test_reply_nothing_explains_goes_to_the_only_endpointless_flow(
    client: FlaskClient, db: Database
) -> None:
    """A static token ("unused"), no context: lead_capture is the one endpoint-less flow."""
    assert post(client, nfm_reply(LEAD, token="unused")).status_code == 200
    sub = one(db, Submission)
    assert (sub.flow, sub.status, sub.flow_token) == ("lead_capture", "valid", "unused")


def test_reply_matching_no_flow_is_kept_and_noted(
    settings: dict[str, str], db: Database, tmp_path: Any
) -> None:
    """Two endpoint-less flows and no webhook_default: the reply cannot be placed."""
    app = _app_with_flows(settings, tmp_path, {"callback": None})
    try:
        assert post(app.test_client(), nfm_reply(LEAD, token="unused")).status_code == 200
        sub = one(db, Submission)  # kept as a visible lead, never dropped
        assert (sub.flow, sub.status, sub.source) == (None, "unrouted", "webhook")
        assert sub.fields == LEAD and sub.flow_token == "unused"
        assert [e["code"] for e in sub.errors] == ["unrouted"]
        assert event_types(db) == ["submission.invalid"]
        row = one(db, InboundNotification)
        assert row.status == "processed"
        assert "matched no flow" in (row.error or "")
        assert one(db, Contact).last_inbound_at is not None  # still an inbound message
    finally:
        app.extensions["flowgate"].db.dispose()


def test_webhook_default_flow_takes_replies_without_token(
    settings: dict[str, str], db: Database, tmp_path: Any
) -> None:
    module = "from app.flows_api import FlowHandlers\n"
    module += "handlers = FlowHandlers(webhook_default=True)\n"
    app = _app_with_flows(settings, tmp_path, {"callback": module})
    try:
        response = post(app.test_client(), nfm_reply(LEAD, token="unused"))
        assert response.status_code == 200
        sub = one(db, Submission)
        assert (sub.flow, sub.status, sub.flow_token) == ("callback", "valid", "unused")
    finally:
        app.extensions["flowgate"].db.dispose()


def _app_with_flows(
    settings: dict[str, str], tmp_path: Any, copies: dict[str, str | None]
) -> Flask:
    """An app whose flows/ holds lead_capture plus copies of it (with optional modules)."""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    flows.mkdir()
    schemas.mkdir()
    for name in ("lead_capture", *copies):
        (flows / f"{name}.json").write_text((ROOT / "flows/lead_capture.json").read_text())
        (schemas / f"{name}.json").write_text((ROOT / "schemas/lead_capture.json").read_text())
        if copies.get(name):
            (flows / f"{name}.py").write_text(copies[name] or "")
    overrides = {"FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    return create_app(make_config({**settings, **overrides}))


def test_reply_with_our_expired_token_is_still_a_lead(client: FlaskClient, db: Database) -> None:
    """Token expiry guards our endpoint; a completed form that arrives late is still a lead."""
    from app import clock

    clock.set_now(datetime.fromtimestamp(T0, UTC))
    token = token_for(WA)  # 72 h
    clock.set_now(datetime.fromtimestamp(T0, UTC) + timedelta(days=4))
    assert post(client, nfm_reply(LEAD, token=token, timestamp=T0 + 345_000)).status_code == 200
    sub = one(db, Submission)
    assert (sub.flow, sub.status, sub.wa_id, sub.flow_token) == ("lead_capture", "valid", WA, token)


def test_forged_token_is_not_believed(client: FlaskClient, db: Database) -> None:
    """A token with a bad MAC names nothing: not its flow, not its wa_id."""
    token = token_for("491700000009", flow="appointment")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert post(client, nfm_reply(LEAD, token=forged)).status_code == 200
    sub = one(db, Submission)  # placed like any foreign token: the only endpoint-less flow
    assert (sub.flow, sub.status, sub.errors) == ("lead_capture", "valid", [])
