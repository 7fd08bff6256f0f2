"""The outbox: what `enqueue_event` writes, and that it rides the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import clock
from app.delivery.signing import generate_secret, secret_key, sign, webhook_headers
from app.delivery.subscriptions import set_enabled
from app.models import Delivery, Event
from app.models.outbox import enqueue_event
from tests.delivery.conftest import add_endpoint, deliveries


def test_one_event_and_a_delivery_per_subscribed_enabled_endpoint(db):
    wanted = add_endpoint(db, "http://127.0.0.1:9/a", ["flow.submitted"])
    everything = add_endpoint(db, "http://127.0.0.1:9/b", ["*"])
    paused = add_endpoint(db, "http://127.0.0.1:9/c")
    with db.transaction() as session:
        set_enabled(session, paused.id, False)
    at = datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)
    clock.set_now(at)
    data = {"flow": "lead_capture", "fields": {"name": "Zoë"}, "submitted_at": at}
    with db.transaction() as session:
        event = enqueue_event(session, "flow.submitted", data, submission_id="sub-1")
    with db.session() as session:
        stored = session.get(Event, event.id)
    assert stored.id.startswith("msg_") and "." not in stored.id
    assert stored.submission_id == "sub-1" and stored.type == "flow.submitted"
    assert json.loads(stored.body) == {
        "type": "flow.submitted",
        "timestamp": "2026-03-01T12:00:00.500000Z",
        "data": {
            "flow": "lead_capture",
            "fields": {"name": "Zoë"},
            "submitted_at": "2026-03-01T12:00:00.500000Z",
        },
    }
    rows = deliveries(db)
    assert sorted(d.endpoint_id for d in rows) == sorted([wanted.id, everything.id])
    assert {(d.status, d.attempts, d.event_id, d.event_type) for d in rows} == {
        ("pending", 0, event.id, "flow.submitted")
    }
    assert all(d.next_attempt_at == at for d in rows)


def test_a_rolled_back_transaction_leaves_no_event(db):
    add_endpoint(db, "http://127.0.0.1:9/a")
    with pytest.raises(RuntimeError), db.transaction() as session:
        enqueue_event(session, "flow.submitted", {"x": 1})
        raise RuntimeError("the submission failed")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_unserialisable_data_fails_before_anything_is_stored(db):
    with pytest.raises(TypeError), db.transaction() as session:
        enqueue_event(session, "flow.submitted", {"x": object()})
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_signature_matches_the_official_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_generated_secrets_are_32_random_bytes():
    a, b = generate_secret(), generate_secret()
    assert a != b and a.startswith("whsec_") and len(secret_key(a)) == 32


def test_headers_carry_one_signature_per_secret():
    headers = webhook_headers("msg_x", 1700000000, b"{}", [generate_secret(), generate_secret()])
    assert headers["webhook-id"] == "msg_x" and headers["webhook-timestamp"] == "1700000000"
    assert [s[:3] for s in headers["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    with pytest.raises(ValueError):
        webhook_headers("msg_x", 1700000000, b"{}", [])
