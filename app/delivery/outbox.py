"""The transactional outbox: an event and its delivery rows, written with the business row.

Nothing is sent from here. `enqueue_event` only inserts rows in the caller's transaction, so a
lead and the news about it commit (or roll back) together; `flowgate worker` delivers later.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.ids import new_id
from app.models import Delivery, Event, WebhookEndpoint

# Event types an endpoint may subscribe to.
EVENT_TYPES: tuple[str, ...] = ("flow.submitted",)


def new_event_id() -> str:
    """A Standard Webhooks message id: `msg_` + a time-ordered UUID, no `.` (spec §1.2)."""
    return "msg_" + uuid.UUID(new_id()).hex


def _json_default(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC with `Z` (design.md), dates as ISO; anything else is a bug."""
    if isinstance(value, datetime):
        return clock.isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in an event")


def serialise(payload: dict[str, Any]) -> str:
    """The one serialisation of an event: compact JSON, stored and sent byte for byte."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def endpoint_wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """An enabled endpoint subscribed to `event_type` (or to every type with `*`)."""
    events = endpoint.events or []
    return bool(endpoint.enabled) and (event_type in events or "*" in events)


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
    """
    occurred = clock.now()
    body = serialise({"type": event_type, "timestamp": clock.isoformat(occurred), "data": data})
    event = Event(
        id=new_event_id(),
        type=event_type,
        body=body,
        submission_id=submission_id,
        created_at=occurred,
    )
    session.add(event)
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    ).all()
    for endpoint in endpoints:
        if endpoint_wants(endpoint, event_type):
            session.add(
                Delivery(
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    event_type=event_type,
                    status="pending",
                    attempts=0,
                    next_attempt_at=occurred,
                    created_at=occurred,
                )
            )
    return event
