"""The transactional outbox: an event and its delivery rows, written with the business row.

Nothing is sent from here. `enqueue_event` only inserts rows in the caller's transaction, so a
lead and the news about it commit (or roll back) together; `flowgate worker` delivers later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, true
from sqlalchemy.orm import Session

from app import clock
from app.ids import new_id
from app.models import Delivery, Event, WebhookEndpoint
from app.models.enums import DeliveryStatus, EventType
from app.prepared import Prepared, attach_loaded, connection

# Event types an endpoint may subscribe to.
EVENT_TYPES: tuple[str, ...] = tuple(EventType)

# Built once: this runs for every lead, and building, caching and flushing ORM objects cost
# more than the inserts. The endpoint list is read by each transaction (a small query over a
# handful of rows) rather than cached across them, so endpoints added or disabled by another
# process take effect on the very next transaction.
_ENDPOINTS = WebhookEndpoint.__table__
_SUBSCRIBERS = Prepared(
    select(_ENDPOINTS.c.id, _ENDPOINTS.c.events).where(_ENDPOINTS.c.enabled == true()),
    returning=(_ENDPOINTS.c.id, _ENDPOINTS.c.events),
)
_EVENT_COLUMNS = ("id", "type", "body", "submission_id", "created_at")
_DELIVERY_COLUMNS = (
    "id", "event_id", "endpoint_id", "event_type", "status", "attempts", "next_attempt_at",
    "created_at", "updated_at",
)  # fmt: skip
_INSERT_EVENT = Prepared(insert(Event.__table__).values({c: bindparam(c) for c in _EVENT_COLUMNS}))
_INSERT_DELIVERY = Prepared(
    insert(Delivery.__table__).values({c: bindparam(c) for c in _DELIVERY_COLUMNS})
)
_SNAPSHOT = "flowgate.endpoint_snapshot"


def new_event_id() -> str:
    """A Standard Webhooks message id: `msg_` + a time-ordered UUID, no `.` (spec §1.2)."""
    return "msg_" + uuid.UUID(new_id()).hex


def _json_default(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC with `Z` (docs/contract.md), dates as ISO; else a bug."""
    if isinstance(value, datetime):
        return clock.isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in an event")


def serialise(payload: dict[str, Any]) -> str:
    """The one serialisation of an event: compact JSON, stored and sent byte for byte."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def subscribed(events: list[str] | None, event_type: str) -> bool:
    """An endpoint's `events` list names `event_type` or `*`."""
    events = events or []
    return event_type in events or "*" in events


@contextmanager
def endpoint_snapshot(session: Session) -> Iterator[None]:
    """Within the block, the enabled endpoints are read once and reused by every event.

    For a transaction that writes several events and changes no endpoint (one inbound
    notification: message.received and flow.submitted): one query instead of one per event.
    The list is as of the first read, as if an endpoint changed concurrently were changed
    just after this transaction; the next transaction reads it again.
    """
    session.info[_SNAPSHOT] = None
    try:
        yield
    finally:
        session.info.pop(_SNAPSHOT, None)


def enabled_endpoints(session: Session) -> list[tuple[str, list[str] | None]]:
    """(id, events) of every enabled endpoint, endpoints added in this session included."""
    info = session.info
    if _SNAPSHOT in info and info[_SNAPSHOT] is not None:
        return info[_SNAPSHOT]
    session.flush()  # endpoints added in this session count (a no-op when nothing is pending)
    rows = _SUBSCRIBERS.rows(connection(session), {})
    if _SNAPSHOT in info:
        info[_SNAPSHOT] = rows
    return rows


def enqueue_event(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    submission_id: str | None = None,
) -> Event:
    """Add one Event (`{"type", "timestamp", "data"}` serialised once) and one pending
    Delivery per enabled endpoint subscribed to `event_type`. Does not commit: the caller's
    transaction decides whether the event exists at all.

    Core inserts on the session's connection; the returned Event is attached to the session
    as a loaded row, so it behaves like one the ORM wrote.
    """
    occurred = clock.now()
    body = serialise({"type": event_type, "timestamp": clock.isoformat(occurred), "data": data})
    values = {
        "id": new_event_id(),
        "type": event_type,
        "body": body,
        "submission_id": submission_id,
        "created_at": occurred,
    }
    endpoints = enabled_endpoints(session)
    conn = connection(session)
    _INSERT_EVENT.run(conn, values)
    deliveries = [
        {
            "id": new_id(),
            "event_id": values["id"],
            "endpoint_id": endpoint_id,
            "event_type": event_type,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": occurred,
            "created_at": occurred,
            "updated_at": occurred,
        }
        for endpoint_id, events in endpoints
        if subscribed(events, event_type)
    ]
    if len(deliveries) == 1:
        _INSERT_DELIVERY.run(conn, deliveries[0])
    elif deliveries:
        _INSERT_DELIVERY.run_many(conn, deliveries)
    return attach_loaded(session, Event, values)
