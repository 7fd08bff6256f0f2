"""Leases on delivery rows: claim due work, give back what was not started.

A claim is one short write transaction: pick due, pending rows of enabled endpoints, stamp
them with this worker's name, push `next_attempt_at` to the lease's end and count the attempt.
The lease end doubles as the crash-recovery time: if the worker dies, the row simply becomes
due again when the lease runs out, and any worker claims it. The `attempts` value a claim
returns is its fencing token (see app/delivery/outcomes.py).

PostgreSQL: the row picker is `FOR UPDATE SKIP LOCKED`, so concurrent workers on any number of
machines claim disjoint rows without waiting for each other. SQLite has no row locks
(SQLAlchemy drops the clause); `Database.transaction()` begins IMMEDIATE, so claims by the
processes of one host are serialised by SQLite's single writer lock, and the HTTP call
happens after the commit, never inside a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Delivery, Event, WebhookEndpoint
from app.models.enums import DeliveryStatus


@dataclass(frozen=True)
class Job:
    """One claimed delivery with everything the HTTP attempt needs (no session required)."""

    delivery_id: str
    fence: int  # the `attempts` value this claim set
    event_id: str
    body: bytes
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    endpoint_failing: bool


def claim_due(
    db: Database, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Job]:
    """Claim up to `limit` due deliveries for `owner` until `now + lease_seconds`."""
    if limit <= 0:
        return []
    with db.transaction() as session:
        return claim(session, owner, limit, lease_seconds, now)


def claim(
    session: Session, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Job]:
    """`claim_due` inside the caller's write transaction (which must commit promptly)."""
    if limit <= 0:
        return []
    lease_end = now + timedelta(seconds=lease_seconds)
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            Delivery.endpoint_id.in_(enabled),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            lease_owner=owner,
            lease_expires_at=lease_end,
            next_attempt_at=lease_end,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(Delivery.id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    fences = dict(claimed)
    rows = session.execute(
        select(
            Delivery.id,
            Event.id,
            Event.body,
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.previous_secret,
            WebhookEndpoint.previous_secret_expires_at,
            WebhookEndpoint.failing_since,
        )
        .join(Event, Event.id == Delivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
        .where(Delivery.id.in_(list(fences)))
    ).all()
    return [
        Job(
            delivery_id=row[0],
            fence=fences[row[0]],
            event_id=row[1],
            body=row[2].encode("utf-8"),
            endpoint_id=row[3],
            url=row[4],
            secrets=signing_secrets(row[5], row[6], row[7], now),
            endpoint_failing=row[8] is not None,
        )
        for row in rows
    ]


def signing_secrets(
    secret: str, previous: str | None, previous_expires: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The current secret, plus the previous one while its 24 h overlap lasts."""
    if previous and previous_expires is not None and previous_expires > now:
        return (secret, previous)
    return (secret,)


def release(db: Database, owner: str, jobs: Sequence[Job], now: datetime) -> int:
    """Give unstarted claims back (due now, attempt not counted), e.g. on shutdown."""
    released = 0
    with db.transaction() as session:
        for job in jobs:
            result = session.execute(
                update(Delivery)
                .where(
                    and_(
                        Delivery.id == job.delivery_id,
                        Delivery.lease_owner == owner,
                        Delivery.attempts == job.fence,
                    )
                )
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now,
                    attempts=Delivery.attempts - 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            released += result.rowcount or 0
    return released
