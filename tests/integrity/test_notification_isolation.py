"""One message of a notification never holds back another (docs/leads.md, "Integrity")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import Database
from app.leads.inbox import Inbox, receive, reprocess
from app.models import Contact, InboundNotification, Submission
from tests.leads.meta import LEAD, T0, nfm_reply, post, token_for

WA1, WA2 = "5511912345678", "5511987654321"
NON_ASCII_TOKEN = "fg1.eyJmIjoibGVhZF9jYXB0dXJlIn0.é"


def two_replies(second_token: str) -> dict[str, Any]:
    """One notification, two nfm_replies: a valid lead, then one carrying `second_token`."""
    first = nfm_reply(LEAD, wa_id=WA1, message_id="wamid.one", token=token_for(WA1), timestamp=T0)
    second = nfm_reply(LEAD, wa_id=WA2, message_id="wamid.two", timestamp=T0 + 5)
    reply = second["entry"][0]["changes"][0]["value"]["messages"][0]
    reply["interactive"]["nfm_reply"]["response_json"] = json.dumps(
        {**LEAD, "flow_token": "PLACEHOLDER"}
    ).replace('"PLACEHOLDER"', json.dumps(second_token))
    value = first["entry"][0]["changes"][0]["value"]
    other = second["entry"][0]["changes"][0]["value"]
    value["contacts"] += other["contacts"]
    value["messages"] += other["messages"]
    return first


def leads(db: Database) -> dict[str, Submission]:
    with db.session() as session:
        return {s.message_id: s for s in session.scalars(select(Submission))}


@pytest.mark.parametrize("token", [NON_ASCII_TOKEN, "fg1.eyJmIjoibGVhZF9jYXB0dXJlIn0.\\ud800"])
def test_a_hostile_token_in_one_reply_does_not_hold_back_the_other(
    client: FlaskClient, db: Database, token: str
) -> None:
    body = json.dumps(two_replies(token.replace("\\ud800", "\ud800")))
    response = post(client, body.encode())
    assert response.status_code == 200
    stored = leads(db)
    assert stored["wamid.one"].status == "valid"
    assert stored["wamid.one"].flow == "lead_capture"
    # The hostile token is refused as a token, and the reply is still a visible lead.
    second = stored["wamid.two"]
    assert second.status in ("invalid", "unrouted")
    assert any(e["code"] == "malformed_flow_token" for e in second.errors)
    with db.session() as session:
        windows = {c.wa_id: c.last_inbound_at for c in session.scalars(select(Contact))}
    assert windows[WA1] is not None and windows[WA2] is not None


def test_a_failing_message_is_recorded_and_the_others_are_stored(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected failure on one message: that message is noted, the rest committed."""
    from app.leads.notifications import messages

    real = messages.record_submission

    def explode_on_second(session: Any, registry: Any, intake: Any) -> Any:
        if intake.message_id == "wamid.two":
            raise TypeError("simulated bug in one message")
        return real(session, registry, intake)

    monkeypatch.setattr(messages, "record_submission", explode_on_second)
    response = post(client, two_replies(token_for(WA2)))
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = leads(db)
    assert set(stored) == {"wamid.one"}
    with db.session() as session:
        row = session.scalars(select(InboundNotification)).one()
        windows = {c.wa_id: c.last_inbound_at for c in session.scalars(select(Contact))}
    assert row.status == "failed"
    assert "wamid.two" in row.error and "simulated bug" in row.error
    assert "wamid.one" not in row.error
    assert windows[WA1] is not None

    # Once the bug is gone, reprocessing stores the held-back message and nothing twice.
    monkeypatch.setattr(messages, "record_submission", real)
    rt = client.application.extensions["flowgate"]
    receipts = reprocess(Inbox(rt.db, rt.registry, rt.config.token_secret))
    assert [r.status for r in receipts] == ["processed"]
    assert set(leads(db)) == {"wamid.one", "wamid.two"}


def test_reprocess_of_a_hostile_token_notification_succeeds(app: Flask, db: Database) -> None:
    rt = app.extensions["flowgate"]
    inbox = Inbox(rt.db, rt.registry, rt.config.token_secret)
    receipt = receive(inbox, json.dumps(two_replies(NON_ASCII_TOKEN)).encode())
    assert receipt.status == "processed"
    again = reprocess(inbox, [receipt.notification_id])
    assert [r.status for r in again] == ["processed"]
    assert len(leads(db)) == 2
