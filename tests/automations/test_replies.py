"""Rules run by the worker: keyword replies, confirmations after a lead, re-delivery."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.models import AutomationTrigger, Event, OutboundMessage
from tests.automations.conftest import AT, WA, drain, inbound, sends
from tests.leads.meta import LEAD, T0, add_endpoint, nfm_reply, post, token_for


def test_keyword_reply_is_sent_once_and_recorded(web, db, cloud, make_runner) -> None:
    inbound(web, "What are your opening HOURS?")
    drain(make_runner)
    assert cloud.shape_errors == []
    [body] = cloud.bodies()
    assert body["to"] == WA and body["type"] == "text"
    assert body["text"] == {"preview_url": False, "body": "Hi Ana, we open at 9."}
    [send] = sends(db)
    assert body["biz_opaque_callback_data"] == f"flowgate:{send.id}"
    assert (send.status, send.rule, send.wamid) == ("sent", "hours", "wamid.FAKE0001")
    with db.session() as session:
        stored = session.get(OutboundMessage, "wamid.FAKE0001")
        assert stored is not None and stored.wa_id == WA and stored.kind == "text"


def test_keywords_match_whole_words_only(web, db, cloud, make_runner) -> None:
    inbound(web, "I opened the box", message_id="wamid.a")
    inbound(web, "thanks", message_id="wamid.b", at=AT + timedelta(seconds=5))
    drain(make_runner)
    assert cloud.requests == []
    assert sends(db) == []


def test_redelivered_notification_sends_one_reply(web, db, cloud, make_runner) -> None:
    payload = inbound(web, "open today?")
    assert post(web, payload).status_code == 200  # Meta delivers it again (same bytes)
    payload["entry"][0]["id"] = "other"  # and again, inside another envelope
    assert post(web, payload).status_code == 200
    drain(make_runner)
    drain(make_runner)
    assert len(cloud.requests) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AutomationTrigger)) == 2
        # message.received + window.expiring (the latter not due yet)


def test_confirmation_after_a_lead(web, db, cloud, make_runner) -> None:
    inbound(web, "hello", message_id="wamid.first")
    clock.set_now(AT + timedelta(minutes=5))
    reply = nfm_reply(LEAD, token=token_for(WA), message_id="wamid.reply1", timestamp=T0 + 240)
    assert post(web, reply).status_code == 200
    assert post(web, reply).status_code == 200  # re-delivered
    drain(make_runner)
    assert [b["text"]["body"] for b in cloud.bodies()] == ["Thanks Ana, see you on 2026-12-01."]
    assert [s.rule for s in sends(db)] == ["confirm"]


def test_message_received_event_carries_text_ref_and_window(web, db, make_runner) -> None:
    add_endpoint(db)
    with db.transaction() as session:
        from app.models import WebhookEndpoint

        for endpoint in session.scalars(select(WebhookEndpoint)):
            endpoint.events = ["message.received"]
    referral = {"source_url": "https://fb.me/x", "source_id": "ad-77", "source_type": "ad"}
    inbound(web, "hi there (ref: spring)", extra={"referral": referral})
    with db.session() as session:
        [event] = session.scalars(select(Event)).all()
    body = json.loads(event.body)
    assert body["type"] == "message.received"
    data = body["data"]
    assert data["wa_id"] == WA and data["contact_name"] == "Ana"
    assert data["wamid"] == "wamid.in1" and data["type"] == "text"
    assert data["text"] == "hi there (ref: spring)" and data["ref"] == "spring"
    assert data["referral"]["source_id"] == "ad-77"
    assert data["window"] == {"open": True, "expires_at": "2026-09-22T14:13:20Z"}
