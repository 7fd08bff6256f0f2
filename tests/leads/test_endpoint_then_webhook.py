"""An endpoint completion and the nfm_reply Meta sends after it are one lead.

The endpoint side is driven by issue 3's WhatsApp-client emulator through the real endpoint
(RSA + AES-GCM, signed requests); the webhook side is the signed notification Meta sends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from app.crypto.tokens import issue_token
from app.db import Database
from app.endpoint.emulator import FlaskTransport, WhatsAppClient, nfm_reply_notification
from app.models import Contact, Event, OutboundMessage, Submission
from tests.leads.meta import TOKEN_SECRET, add_endpoint, counts, one, post

WA = "447700900123"


def complete_appointment(app: Flask, private_key: rsa.RSAPrivateKey, token: str) -> dict:
    """Walk flows/appointment.json through the endpoint; returns the SUCCESS params."""
    definition = app.extensions["flowgate"].registry.get("appointment")
    client = WhatsAppClient(
        flow="appointment",
        document=definition.document,
        public_key=private_key.public_key(),
        app_secret="test-app-secret",
        transport=FlaskTransport(app.test_client()),
        flow_token=token,
    )
    day = definition.module.offered_dates()[0]["id"]
    answers = {
        "APPOINTMENT": {
            "department": "cardiology",
            "location": "city_centre",
            "date": day,
            "time": "09:00",
        },
        "DETAILS": {
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "+44 7700 900123",
            "more_details": "Mornings",
        },
        "SUMMARY": {},
    }
    return client.walk(answers).completion


def reply(completion: dict[str, Any], wa_id: str = WA, **kwargs: Any) -> dict[str, Any]:
    return nfm_reply_notification(
        completion, wa_id=wa_id, message_id="wamid.done", contact_name="Ana", **kwargs
    )


@pytest.fixture
def token() -> str:
    return issue_token(TOKEN_SECRET, flow="appointment", wa_id=WA).flow_token


def test_completion_then_its_nfm_reply_is_one_submission(
    app: Flask, client: FlaskClient, db: Database, private_key: rsa.RSAPrivateKey, token: str
) -> None:
    add_endpoint(db)
    completion = complete_appointment(app, private_key, token)
    assert completion["flow_token"] == token
    stored = one(db, Submission)
    assert (stored.source, stored.status, stored.id) == (
        "endpoint",
        "valid",
        completion["submission_id"],
    )
    before = counts(db)
    assert (before["submissions"], before["events"], before["deliveries"]) == (1, 1, 1)

    assert post(client, reply(completion)).status_code == 200
    after = counts(db)
    assert (after["submissions"], after["events"], after["deliveries"]) == (1, 1, 1)
    assert one(db, Submission).status == "valid"
    contact = one(db, Contact)  # the reply still counts as the contact's inbound message
    assert (contact.wa_id, contact.profile_name) == (WA, "Ana")
    assert contact.last_inbound_at is not None
    # The event was written at the completion, before the reply opened the window.
    assert json.loads(one(db, Event).body)["data"]["source"] == "endpoint"


def test_ios_reply_without_token_still_matches_by_submission_id(
    app: Flask, client: FlaskClient, db: Database, private_key: rsa.RSAPrivateKey, token: str
) -> None:
    completion = complete_appointment(app, private_key, token)
    without_token = {k: v for k, v in completion.items() if k != "flow_token"}
    assert post(client, reply(without_token)).status_code == 200
    assert counts(db)["submissions"] == 1


def test_ios_reply_without_any_of_our_params_matches_by_context(
    app: Flask, client: FlaskClient, db: Database, private_key: rsa.RSAPrivateKey, token: str
) -> None:
    with db.transaction() as session:
        session.add(
            OutboundMessage(
                id="wamid.flow", wa_id=WA, kind="flow", flow="appointment", flow_token=token
            )
        )
    complete_appointment(app, private_key, token)
    assert post(client, reply({}, context_id="wamid.flow")).status_code == 200
    assert counts(db)["submissions"] == 1


def test_reply_from_another_contact_marks_the_lead_invalid_once(
    app: Flask, client: FlaskClient, db: Database, private_key: rsa.RSAPrivateKey, token: str
) -> None:
    completion = complete_appointment(app, private_key, token)
    payload = reply(completion, wa_id="491700000001")
    assert post(client, payload).status_code == 200
    sub = one(db, Submission)
    assert sub.status == "invalid"
    assert [e["code"] for e in sub.errors] == ["token_wa_id_mismatch"]
    payload["entry"][0]["id"] = "rebatched"  # other bytes, same message
    assert post(client, payload).status_code == 200
    assert len(one(db, Submission).errors) == 1
