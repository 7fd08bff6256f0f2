"""Managing webhook endpoints and replaying deliveries (the core behind the API and CLI).

Functions take a session and do not commit, like the rest of the core. Secrets leave this
module only in `create_endpoint` and `rotate_secret` results; listings never carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app import clock
from app.delivery.signing import generate_secret
from app.delivery.ssrf import IPNetwork, Resolver, system_resolver, vet_url
from app.errors import InvalidRequest, NotFound
from app.models import Delivery, DeliveryAttempt, WebhookEndpoint
from app.models.enums import DeliveryStatus, EventType
from app.models.outbox import EVENT_TYPES
from app.pagination import decode_time_cursor, encode_time_cursor, trim

ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Guard:
    """SSRF settings for registration checks."""

    allow: Sequence[IPNetwork] = ()
    resolver: Resolver = system_resolver


def check_events(events: Sequence[str] | None) -> list[str]:
    """A non-empty, de-duplicated list of known event types (or `*`)."""
    chosen = list(dict.fromkeys(events or [EventType.FLOW_SUBMITTED]))
    unknown = [e for e in chosen if e not in EVENT_TYPES and e != "*"]
    if unknown:
        raise InvalidRequest(
            f"unknown event type(s): {', '.join(unknown)}",
            details={"events": [f"Known types: {', '.join(EVENT_TYPES)} (or *)."]},
        )
    return chosen


def create_endpoint(
    session: Session,
    url: str,
    events: Sequence[str] | None,
    *,
    description: str | None = None,
    guard: Guard = Guard(),
) -> WebhookEndpoint:
    """Register `url` after the SSRF guard accepted it; the new secret is on the result."""
    vet_url(url, allow=guard.allow, resolver=guard.resolver)
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        events=check_events(events),
        enabled=True,
        secret=generate_secret(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    return endpoint


def list_endpoints(
    session: Session, *, limit: int | None = None, cursor: str | None = None
) -> tuple[list[WebhookEndpoint], str | None]:
    """Oldest first, keyset-paginated on (created_at, id); no limit means all."""
    query = select(WebhookEndpoint)
    if cursor:
        at, last_id = decode_time_cursor(cursor)
        query = query.where(
            or_(
                WebhookEndpoint.created_at > at,
                and_(WebhookEndpoint.created_at == at, WebhookEndpoint.id > last_id),
            )
        )
    query = query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    if limit is None:
        return list(session.scalars(query)), None
    rows, last = trim(list(session.scalars(query.limit(limit + 1))), limit)
    return rows, encode_time_cursor(last.created_at, last.id) if last is not None else None


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    """Remove the endpoint; its deliveries and attempt log go with it (ON DELETE CASCADE)."""
    endpoint = get_endpoint(session, endpoint_id)
    session.execute(
        DeliveryAttempt.__table__.delete().where(
            DeliveryAttempt.delivery_id.in_(
                select(Delivery.id).where(Delivery.endpoint_id == endpoint_id)
            )
        )
    )
    session.execute(Delivery.__table__.delete().where(Delivery.endpoint_id == endpoint_id))
    session.delete(endpoint)


def set_enabled(session: Session, endpoint_id: str, enabled: bool) -> WebhookEndpoint:
    """Enable or disable; enabling clears the failure run so it gets a fresh 5-day window.

    Pending deliveries of a disabled endpoint wait (they are not attempted) and resume when
    it is enabled again.
    """
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.enabled = enabled
    endpoint.disabled_reason = None if enabled else "disabled by an operator"
    if enabled:
        endpoint.failing_since = None
    endpoint.updated_at = clock.now()
    return endpoint


def rotate_secret(session: Session, endpoint_id: str) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (both signatures sent) for 24 hours."""
    endpoint = get_endpoint(session, endpoint_id)
    now = clock.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = generate_secret()
    endpoint.updated_at = now
    return endpoint


def endpoint_to_dict(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events or []),
        "enabled": bool(endpoint.enabled),
        "description": endpoint.description,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": clock.isoformat(endpoint.failing_since),
        "created_at": clock.isoformat(endpoint.created_at),
    }
    if with_secret:
        out["secret"] = endpoint.secret
        out["previous_secret_expires_at"] = clock.isoformat(endpoint.previous_secret_expires_at)
    return out


def delivery_to_dict(delivery: Delivery) -> dict[str, Any]:
    """docs/contract.md's delivery shape, exactly."""
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "endpoint_id": delivery.endpoint_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": clock.isoformat(delivery.next_attempt_at)
        if delivery.status == DeliveryStatus.PENDING
        else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
    }


def attempt_to_dict(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempted_at": clock.isoformat(attempt.attempted_at),
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "response_snippet": attempt.response_snippet,
    }


def list_deliveries(
    session: Session,
    endpoint_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Delivery], str | None]:
    """Newest first, keyset-paginated on (created_at, id)."""
    get_endpoint(session, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(Delivery.status == status)
    if cursor:
        at, last_id = decode_time_cursor(cursor)
        query = query.where(
            or_(Delivery.created_at < at, and_(Delivery.created_at == at, Delivery.id < last_id))
        )
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit + 1)
    rows, last = trim(list(session.scalars(query)), limit)
    return rows, encode_time_cursor(last.created_at, last.id) if last is not None else None


def attempts_of(session: Session, delivery_ids: Sequence[str]) -> dict[str, list[DeliveryAttempt]]:
    """The attempt log of each delivery, oldest first."""
    out: dict[str, list[DeliveryAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        query = (
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(list(delivery_ids)))
            .order_by(DeliveryAttempt.id)
        )
        for attempt in session.scalars(query):
            out[attempt.delivery_id].append(attempt)
    return out


def _make_due(now: datetime) -> dict[str, Any]:
    # Clearing the lease fences out a worker still holding it: its late outcome is dropped.
    return {
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
    }


def retry_delivery(session: Session, delivery_id: str) -> Delivery:
    """Make any delivery (pending, delivered or failed) due now; same event, same webhook-id.

    A delivery whose schedule is used up gets exactly one more attempt.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    for name, value in _make_due(clock.now()).items():
        setattr(delivery, name, value)
    return delivery


def retry_failed_since(session: Session, endpoint_id: str, since: datetime) -> int:
    """Make every failed delivery of one endpoint created at or after `since` due now."""
    get_endpoint(session, endpoint_id)
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.endpoint_id == endpoint_id,
            Delivery.status == DeliveryStatus.FAILED,
            Delivery.created_at >= since,
        )
        .values(**_make_due(clock.now()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
