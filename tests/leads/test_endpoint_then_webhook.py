"""An endpoint completion and the nfm_reply Meta sends after it are one lead.

The endpoint side is driven by WhatsApp-client emulator through the real endpoint
(RSA + AES-GCM, signed requests); the webhook side is the signed notification Meta sends.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.crypto.tokens import issue_token
from app.db import Database
from app.endpoint.emulator import FlaskTransport, WhatsAppClient, nfm_reply_notification
from app.models import Contact, Event, OutboundMessage, Submission
from tests.conftest import ROOT, make_config
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


def test_foreign_token_runs_stay_apart_and_learn_their_sender(
    settings: dict[str, str], db: Database, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    """Templates send a static token ("unused"): each run is its own lead, and each run's
    nfm_reply is matched to it by our submission_id param, filling in who submitted."""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    flows.mkdir()
    schemas.mkdir()
    shutil.copy(ROOT / "flows" / "appointment.json", flows / "appointment.json")
    shutil.copy(ROOT / "schemas" / "appointment.json", schemas / "appointment.json")
    (flows / "appointment.py").write_text(
        "from app.flows_api import FlowHandlers\n"
        "handlers = FlowHandlers(accept_foreign_tokens=True)\n"
    )
    app = create_app(
        make_config(
            {**settings, "FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
        )
    )
    try:
        definition = app.extensions["flowgate"].registry.get("appointment")
        fields = {
            "department": "cardiology",
            "location": "city_centre",
            "date": "2026-12-02",
            "time": "09:00",
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "+44 7700 900123",
            "more_details": "",
        }
        replies = []
        for i, wa_id in enumerate(("447700900001", "447700900002")):
            phone = WhatsAppClient(
                flow="appointment",
                document=definition.document,
                public_key=private_key.public_key(),
                app_secret="test-app-secret",
                transport=FlaskTransport(app.test_client()),
                flow_token="unused",
            )
            phone.init()
            done = phone.exchange("SUMMARY", {**fields, "name": f"User {i}"})
            params = done["data"]["extension_message_response"]["params"]
            replies.append(
                nfm_reply_notification(
                    params, wa_id=wa_id, message_id=f"wamid.{i}", contact_name=f"User {i}"
                )
            )
        client = app.test_client()
        for payload in replies + replies:  # each reply delivered twice
            assert post(client, payload).status_code == 200
        with db.session() as session:
            stored = session.scalars(select(Submission).order_by(Submission.wa_id)).all()
        assert [(s.source, s.wa_id, s.contact_name) for s in stored] == [
            ("endpoint", "447700900001", "User 0"),
            ("endpoint", "447700900002", "User 1"),
        ]
    finally:
        app.extensions["flowgate"].db.dispose()
