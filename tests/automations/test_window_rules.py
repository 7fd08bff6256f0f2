"""The window at send time, human takeover, window.expiring, once_per_seconds."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.models import Contact, Event, WebhookEndpoint
from tests.automations.conftest import AT, HOURS_RULE, WA, drain, inbound, sends
from tests.conftest import API_TOKEN

API = {"Authorization": f"Bearer {API_TOKEN}"}
EXPIRES = AT + timedelta(hours=24)
TEMPLATE_RULE = {
    "name": "late-hours",
    "on": "message.received",
    "when": {"keywords": ["hours"]},
    "send": {"type": "template", "name": "opening_hours", "language": "en_US"},
}
EXPIRING_RULE = {
    "name": "still-there",
    "on": "window.expiring",
    "send": {"type": "text", "text": "Anything else, {contact_name}?"},
}


def subscribe(db, *events: str) -> None:
    with db.transaction() as session:
        session.add(
            WebhookEndpoint(url="http://127.0.0.1:9/hook", events=list(events), secret="whsec_dA==")
        )


def events_of(db, kind: str) -> list[dict]:
    with db.session() as session:
        rows = session.scalars(select(Event).where(Event.type == kind)).all()
    return [json.loads(row.body) for row in rows]


def test_free_form_reply_to_a_closed_window_is_skipped_and_a_template_goes(
    web, db, cloud, make_runner, rules_file
) -> None:
    rules_file(HOURS_RULE, TEMPLATE_RULE)
    inbound(web, "hours?")
    clock.set_now(EXPIRES)  # the worker was down for a day: the window closed meanwhile
    drain(make_runner)
    by_rule = {s.rule: s for s in sends(db)}
    assert by_rule["hours"].status == "skipped" and "window closed" in by_rule["hours"].error
    assert by_rule["late-hours"].status == "sent"
    assert [b["type"] for b in cloud.bodies()] == ["template"]
    assert cloud.bodies()[0]["template"] == {"name": "opening_hours", "language": {"code": "en_US"}}


def test_a_person_writing_pauses_message_rules(web, db, cloud, make_runner) -> None:
    inbound(web, "hello", message_id="wamid.0")
    answer = web.post(
        "/api/v1/messages", json={"wa_id": WA, "type": "text", "text": "Hi, Bea here"}, headers=API
    )
    assert answer.status_code == 201, answer.get_json()
    inbound(web, "when do you open?", message_id="wamid.1", at=AT + timedelta(minutes=10))
    drain(make_runner)
    assert [b["text"]["body"] for b in cloud.bodies()] == ["Hi, Bea here"]
    # FLOWGATE_HUMAN_PAUSE_SECONDS (1800 s) later, rules answer again
    inbound(web, "are you open?", message_id="wamid.2", at=AT + timedelta(minutes=31))
    drain(make_runner)
    assert [b["text"]["body"] for b in cloud.bodies()][-1] == "Hi Ana, we open at 9."


def test_window_expiring_once_per_window_not_after_a_reset(
    web, db, cloud, make_runner, rules_file
) -> None:
    rules_file(EXPIRING_RULE)
    subscribe(db, "window.expiring")
    inbound(web, "hello", message_id="wamid.0")
    clock.set_now(EXPIRES - timedelta(seconds=3601))
    drain(make_runner)
    assert events_of(db, "window.expiring") == [] and cloud.requests == []
    # a newer message 2 h later resets the window: the first warning never goes
    inbound(web, "one more thing", message_id="wamid.1", at=AT + timedelta(hours=2))
    clock.set_now(EXPIRES - timedelta(seconds=3599))
    drain(make_runner)
    assert events_of(db, "window.expiring") == [] and cloud.requests == []
    clock.set_now(EXPIRES + timedelta(hours=2) - timedelta(seconds=3600))
    drain(make_runner)
    clock.set_now(EXPIRES + timedelta(hours=2) - timedelta(seconds=60))
    drain(make_runner)
    [event] = events_of(db, "window.expiring")
    assert event["data"] == {
        "wa_id": WA,
        "contact_name": "Ana",
        "window": {"open": True, "expires_at": "2026-09-22T16:13:20Z"},
    }
    assert [b["text"]["body"] for b in cloud.bodies()] == ["Anything else, Ana?"]


def test_once_per_seconds_limits_a_rule_per_contact(
    web, db, cloud, make_runner, rules_file
) -> None:
    rules_file({**HOURS_RULE, "once_per_seconds": 600})
    for i, minutes in enumerate((0, 5, 11)):
        inbound(web, "open?", message_id=f"wamid.{i}", at=AT + timedelta(minutes=minutes))
        drain(make_runner)
    assert len(cloud.requests) == 2


def test_meta_131047_closes_the_window_and_fails_the_send(web, db, cloud, make_runner) -> None:
    inbound(web, "open?")
    cloud.error(131047, "Re-engagement message", status=400)
    drain(make_runner)
    [send] = sends(db)
    assert send.status == "failed" and "131047" in send.error
    answer = web.get(f"/api/v1/contacts/{WA}/window", headers=API).get_json()
    assert answer["window_open"] is False and answer["closed_reason"] == "re_engagement_error"


def test_rate_limited_send_is_retried(web, db, cloud, make_runner) -> None:
    inbound(web, "open?")
    cloud.error(130429, "Rate limit hit", status=400)
    drain(make_runner)
    [send] = sends(db)
    assert send.status == "pending" and send.attempts == 1
    clock.advance(timedelta(seconds=5))
    drain(make_runner)
    [send] = sends(db)
    assert send.status == "sent" and len(cloud.requests) == 2


def test_contact_first_touch_is_kept(web, db, make_runner) -> None:
    from app.models import ContactAutomation

    inbound(web, "Hi! (ref: spring)", message_id="wamid.0")
    referral = {"source_id": "ad-1", "source_type": "ad", "source_url": "https://fb.me/a"}
    inbound(
        web, "hello", message_id="wamid.1", at=AT + timedelta(hours=1), extra={"referral": referral}
    )
    inbound(web, "Hi! (ref: autumn)", message_id="wamid.2", at=AT + timedelta(hours=2))
    with db.session() as session:
        state = session.get(ContactAutomation, WA)
        assert (state.first_source, state.first_ref) == ("link", "spring")
        assert state.last_ref == "autumn"
        assert session.get(Contact, WA) is not None


def test_first_touch_is_exported_with_the_leads(web, db) -> None:
    import csv
    import io

    from tests.leads.meta import LEAD, T0, nfm_reply, post, token_for

    inbound(web, "Hi! (ref: spring)", message_id="wamid.0")
    inbound(web, "hi", wa_id="5511000000001", message_id="wamid.x")  # no source
    reply = nfm_reply(LEAD, token=token_for(WA), message_id="wamid.r1", timestamp=T0 + 60)
    assert post(web, reply).status_code == 200
    other = nfm_reply(
        LEAD,
        wa_id="5511000000001",
        token=token_for("5511000000001"),
        message_id="wamid.r2",
        timestamp=T0 + 61,
    )
    assert post(web, other).status_code == 200
    answer = web.get("/api/v1/submissions.csv", headers=API)
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    touch = {row["wa_id"]: (row["first_touch_source"], row["first_touch_ref"]) for row in rows}
    assert touch == {WA: ("link", "spring"), "5511000000001": ("", "")}
