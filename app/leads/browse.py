"""Read-side views of leads, contacts and the inbox for people (the dashboard).

Each function takes a session and only reads. They exist so that the dashboard's views hold
no SQL, and they read through the same indexes as the admin API: one lead by primary key,
its events by `events.submission_id`, contacts by the window's edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.delivery.subscriptions import attempts_of
from app.leads.window import WINDOW, WindowState, window_state
from app.models import (
    Contact,
    Delivery,
    DeliveryAttempt,
    Event,
    InboundNotification,
    Submission,
    WebhookEndpoint,
)
from app.models.enums import InboxStatus, SubmissionStatus

STALE_PENDING = timedelta(minutes=5)


@dataclass(frozen=True)
class DeliveryView:
    """One delivery of one of the lead's events, with its endpoint's URL and attempt log."""

    delivery: Delivery
    endpoint_url: str | None
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True)
class LeadView:
    submission: Submission
    window: WindowState
    contact: Contact | None
    deliveries: list[DeliveryView] = field(default_factory=list)


def lead(session: Session, submission_id: str, at: datetime) -> LeadView | None:
    """A lead with its contact's window at `at` and every delivery of its events."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    contact = session.get(Contact, submission.wa_id) if submission.wa_id else None
    rows = session.execute(
        select(Delivery, WebhookEndpoint.url)
        .join(Event, Event.id == Delivery.event_id)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
        .where(Event.submission_id == submission_id)
        .order_by(Delivery.created_at, Delivery.id)
    ).all()
    log = attempts_of(session, [d.id for d, _ in rows])
    views = [DeliveryView(d, url, log[d.id]) for d, url in rows]
    return LeadView(submission, window_state(contact, at), contact, views)


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    window: WindowState


def open_windows(session: Session, at: datetime, *, limit: int = 100) -> list[ContactRow]:
    """Contacts whose window is open at `at`, closing soonest first."""
    stmt = (
        select(Contact)
        .where(Contact.last_inbound_at > at - WINDOW)
        .order_by(Contact.last_inbound_at, Contact.wa_id)
        .limit(limit)
    )
    rows = [ContactRow(c, window_state(c, at)) for c in session.scalars(stmt)]
    # A 131047 refusal closes a recent window: those are listed with the closed ones.
    return [row for row in rows if row.window.open]


def closed_windows(
    session: Session, at: datetime, *, after: tuple[datetime | None, str] | None, limit: int = 50
) -> tuple[list[ContactRow], tuple[datetime | None, str] | None]:
    """Contacts whose window is closed at `at`, most recently heard from first, a page at a
    time (keyset on last_inbound_at, wa_id; never-heard contacts last)."""
    edge = at - WINDOW
    recent = Contact.last_inbound_at > edge
    refused = and_(recent, Contact.re_engagement_error_at >= Contact.last_inbound_at)
    stmt = select(Contact).where(
        or_(Contact.last_inbound_at.is_(None), Contact.last_inbound_at <= edge, refused)
    )
    if after is not None:
        last_at, last_id = after
        if last_at is None:
            stmt = stmt.where(Contact.last_inbound_at.is_(None), Contact.wa_id > last_id)
        else:
            stmt = stmt.where(
                or_(
                    Contact.last_inbound_at < last_at,
                    and_(Contact.last_inbound_at == last_at, Contact.wa_id > last_id),
                    Contact.last_inbound_at.is_(None),
                )
            )
    stmt = stmt.order_by(
        Contact.last_inbound_at.is_(None), Contact.last_inbound_at.desc(), Contact.wa_id
    ).limit(limit + 1)
    contacts = list(session.scalars(stmt))
    more = len(contacts) > limit
    contacts = contacts[:limit]
    rows = [ContactRow(c, window_state(c, at)) for c in contacts]
    last = contacts[-1] if more and contacts else None
    return rows, (last.last_inbound_at, last.wa_id) if last is not None else None


@dataclass(frozen=True)
class InboxView:
    """Notifications that need a person: failed, unreadable or stuck, and unrouted leads."""

    notifications: Sequence[InboundNotification]
    unrouted: Sequence[Submission]


def inbox(session: Session, at: datetime, *, limit: int = 100) -> InboxView:
    stale = at - STALE_PENDING
    notifications = session.scalars(
        select(InboundNotification)
        .where(
            or_(
                InboundNotification.status.in_([InboxStatus.FAILED, "invalid"]),
                and_(
                    InboundNotification.status == InboxStatus.PENDING,
                    InboundNotification.received_at < stale,
                ),
            )
        )
        .order_by(InboundNotification.received_at.desc(), InboundNotification.id.desc())
        .limit(limit)
    ).all()
    unrouted = session.scalars(
        select(Submission)
        .where(Submission.status == SubmissionStatus.UNROUTED)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(limit)
    ).all()
    return InboxView(notifications, unrouted)
