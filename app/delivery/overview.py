"""Webhook endpoints at a glance, and a test event for one endpoint (the dashboard's core).

A test event lets an operator check a receiver without waiting for a real lead: its type
`webhook.test` is one no endpoint can subscribe to, so it goes only to the endpoint asked
for, signed and retried like every event (docs/delivery.md). Receivers that switch on
`type` ignore it.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app import clock
from app.delivery.subscriptions import get_endpoint
from app.ids import new_id
from app.models import Delivery, Event
from app.models.outbox import new_event_id, serialise

TEST_EVENT = "webhook.test"


def status_counts(session: Session) -> dict[str, Counter[str]]:
    """Endpoint id -> deliveries per status (one grouped query)."""
    out: dict[str, Counter[str]] = {}
    stmt = select(Delivery.endpoint_id, Delivery.status, func.count()).group_by(
        Delivery.endpoint_id, Delivery.status
    )
    for endpoint_id, status, n in session.execute(stmt):
        out.setdefault(endpoint_id, Counter())[status] = int(n)
    return out


def send_test_event(session: Session, endpoint_id: str) -> Delivery:
    """Queue one `webhook.test` event for `endpoint_id` only (enabled or not: a disabled
    endpoint's delivery waits until it is enabled). Does not commit."""
    endpoint = get_endpoint(session, endpoint_id)
    at = clock.now()
    data = {"endpoint_id": endpoint.id, "message": "Test event sent from the Flowgate dashboard."}
    body = serialise({"type": TEST_EVENT, "timestamp": clock.isoformat(at), "data": data})
    event_id = new_event_id()
    session.execute(
        insert(Event.__table__).values(
            id=event_id, type=TEST_EVENT, body=body, submission_id=None, created_at=at
        )
    )
    delivery = Delivery(
        id=new_id(),
        event_id=event_id,
        endpoint_id=endpoint.id,
        event_type=TEST_EVENT,
        status="pending",
        attempts=0,
        next_attempt_at=at,
        created_at=at,
        updated_at=at,
    )
    session.add(delivery)
    session.flush()
    return delivery
