"""Intended sends in the database: claim, decide at send time, record, reconcile, cancel.

The exactly-once argument (docs/automations.md): a send exists as a row with a unique
idempotency key before Meta is called; it is marked `sending` in a committed transaction
right before the POST, and only a `pending` row is ever claimed. A worker that dies after
marking leaves a `sending` row whose lease runs out; it becomes `unconfirmed` and is never
posted again. Meta's API has no idempotency key on `POST /messages`, so a message whose POST
may have reached Meta is at most once: the `biz_opaque_callback_data` we attach comes back
in its status webhooks and turns an `unconfirmed` row into `sent` (`reconcile`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from app.leads.contacts import record_re_engagement_error
from app.leads.notifications.statuses import RE_ENGAGEMENT_CODE
from app.leads.window import window_state
from app.messaging.graph import GraphApiError, GraphUnreachable
from app.models import AutomationTrigger, Contact, ContactAutomation, MessageSend, OutboundMessage
from app.models.enums import EventType

log = logging.getLogger("flowgate.automations")

CALLBACK_PREFIX = "flowgate:"
MAX_ATTEMPTS = 5
# Meta codes that mean "not now" rather than "never": throughput and rate limits, temporary
# service problems (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
RETRYABLE = {1, 2, 4, 80007, 130429, 131000, 131016, 131056}
# GraphUnreachable reasons that prove nothing reached Meta (the connection never opened).
NOT_SENT = {"ConnectError", "UnsupportedProtocol"}


@dataclass(frozen=True)
class Claimed:
    """A send marked `sending`: exactly this body goes to Meta."""

    id: str
    wa_id: str
    origin: str
    kind: str
    flow: str | None
    flow_token: str | None
    body: dict[str, Any]
    sent_as: str
    attempts: int


def callback_of(send_id: str) -> str:
    return CALLBACK_PREFIX + send_id


def due_work(session: Session, now: datetime, warning_seconds: float, sending: bool = True) -> bool:
    """Is any trigger (or, when `sending`, any send) due? A cheap read before a write
    transaction."""
    soon = now + timedelta(seconds=warning_seconds)
    t, s = AutomationTrigger, MessageSend
    trigger = exists().where(
        t.status == "pending",
        or_(
            (t.event != EventType.WINDOW_EXPIRING) & (t.due_at <= now),
            (t.event == EventType.WINDOW_EXPIRING) & (t.due_at <= soon),
        ),
    )
    send = exists().where(
        or_(
            (s.status == "pending") & (s.due_at <= now),
            (s.status == "sending") & (s.lease_expires_at < now),
        )
    )
    return bool(session.scalar(select(trigger | send if sending else trigger)))


def due_triggers(
    session: Session, now: datetime, warning_seconds: float, limit: int
) -> list[AutomationTrigger]:
    """Due pending triggers, locked (SKIP LOCKED: other workers take the others)."""
    t = AutomationTrigger
    soon = now + timedelta(seconds=warning_seconds)
    query = (
        select(t)
        .where(
            t.status == "pending",
            or_(
                (t.event != EventType.WINDOW_EXPIRING) & (t.due_at <= now),
                (t.event == EventType.WINDOW_EXPIRING) & (t.due_at <= soon),
            ),
        )
        .order_by(t.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def claim(
    session: Session, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claimed]:
    """Decide and mark up to `limit` due sends; see the module docstring."""
    orphaned = session.execute(
        update(MessageSend)
        .where(MessageSend.status == "sending", MessageSend.lease_expires_at < now)
        .values(
            status="unconfirmed",
            error="the worker stopped after posting began; not sent again (at most once)",
        )
    ).rowcount
    if orphaned:
        log.warning("%d send(s) left unconfirmed by a stopped worker", orphaned)
    rows = session.scalars(
        select(MessageSend)
        .where(MessageSend.status == "pending", MessageSend.due_at <= now)
        .order_by(MessageSend.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    out = []
    for row in rows:
        decided = _decide(session, row, now)
        if decided is None:
            continue
        body, sent_as = decided
        row.status, row.lease_owner = "sending", owner
        row.lease_expires_at = now + timedelta(seconds=lease_seconds)
        row.attempts += 1
        row.sent_as = sent_as
        body = {**body, "biz_opaque_callback_data": callback_of(row.id)}
        out.append(
            Claimed(
                row.id,
                row.wa_id,
                row.origin,
                row.kind,
                row.flow,
                row.flow_token,
                body,
                sent_as,
                row.attempts,
            )
        )
    return out


def _decide(session: Session, row: MessageSend, now: datetime) -> tuple[dict[str, Any], str] | None:
    """The body to send now and its kind, or None (the row is then finished as skipped)."""
    if row.pausable and _paused(session, row.wa_id, now):
        row.status, row.error = "skipped", "paused: a person wrote to this contact"
        log.info("send %s to %s skipped: human pause", row.id, row.wa_id)
        return None
    if row.kind == "template":
        return row.body, row.kind
    state = window_state(session.get(Contact, row.wa_id), now)
    if state.open:
        return row.body, row.kind
    if row.fallback:
        return row.fallback, "template"
    row.status = "skipped"
    row.error = f"window closed ({state.closed_reason}): free-form messages cannot be sent"
    log.info("send %s (%s) to %s skipped: %s", row.id, row.rule or row.origin, row.wa_id, row.error)
    return None


def _paused(session: Session, wa_id: str, now: datetime) -> bool:
    state = session.get(ContactAutomation, wa_id)
    return state is not None and state.paused_until is not None and state.paused_until > now


def pause(session: Session, wa_id: str, until: datetime) -> None:
    """A person messaged `wa_id`: hold its message.received rules until `until`."""
    state = session.get(ContactAutomation, wa_id, with_for_update=True)
    if state is None:
        session.add(ContactAutomation(wa_id=wa_id, paused_until=until))
    elif state.paused_until is None or state.paused_until < until:
        state.paused_until = until
    session.flush()


def record(
    session: Session,
    owner: str,
    results: list[tuple[Claimed, Any]],
    now: datetime,
    pause_seconds: float,
) -> None:
    """Write what Meta answered for each claimed send (a wamid string or an exception)."""
    for claimed, outcome in results:
        row = session.get(MessageSend, claimed.id, with_for_update=True)
        if row is None:
            continue
        if isinstance(outcome, str):
            _store_outbound(session, claimed, outcome, now)
            if row.status in ("sending", "unconfirmed"):
                row.status, row.wamid, row.sent_at, row.error = "sent", outcome, now, None
            if claimed.origin == "api":
                pause(session, claimed.wa_id, now + timedelta(seconds=pause_seconds))
            continue
        if row.status != "sending" or row.lease_owner != owner:
            continue  # someone else decided meanwhile
        row.lease_owner = row.lease_expires_at = None
        _failure(session, row, outcome, now)


def _failure(session: Session, row: MessageSend, exc: Any, now: datetime) -> None:
    if isinstance(exc, GraphApiError):
        code = exc.meta_code
        if code == RE_ENGAGEMENT_CODE:
            record_re_engagement_error(session, row.wa_id, at=now)
        if (code in RETRYABLE or (exc.details or {}).get("http_status", 0) >= 500) and (
            row.attempts < MAX_ATTEMPTS
        ):
            row.status, row.due_at = "pending", now + timedelta(seconds=2**row.attempts)
        else:
            row.status = "failed"
        row.error = f"Meta refused: code {code}: {(exc.details or {}).get('message')}"[:2000]
    elif isinstance(exc, GraphUnreachable) and (exc.details or {}).get("reason") in NOT_SENT:
        done = row.attempts >= MAX_ATTEMPTS
        row.status = "failed" if done else "pending"
        row.due_at = now + timedelta(seconds=2**row.attempts)
        row.error = f"Graph API unreachable: {(exc.details or {}).get('reason')}"
    elif isinstance(exc, GraphUnreachable):
        row.status = "unconfirmed"
        row.error = f"no usable answer ({(exc.details or {}).get('reason')}); may have been sent"
    else:
        row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("send %s to %s: %s (%s)", row.id, row.wa_id, row.status, row.error)


def _store_outbound(session: Session, claimed: Claimed, wamid: str, now: datetime) -> None:
    """The OutboundMessage row (replies route by its wamid: docs/messaging.md)."""
    if session.get(OutboundMessage, wamid) is not None:
        return
    session.add(
        OutboundMessage(
            id=wamid,
            wa_id=claimed.wa_id,
            kind=claimed.sent_as,
            flow=claimed.flow if claimed.sent_as == claimed.kind else None,
            flow_token=claimed.flow_token if claimed.sent_as == claimed.kind else None,
            payload=claimed.body,
            sent_at=now,
        )
    )


def apply_status(
    session: Session, status: dict[str, Any], wamid: str, state: str, at: datetime
) -> None:
    """A Meta status webhook for one of our sends: follow it, and reconcile a send whose
    worker vanished (its `biz_opaque_callback_data` names the send)."""
    callback = status.get("biz_opaque_callback_data")
    if isinstance(callback, str) and callback.startswith(CALLBACK_PREFIX):
        row = session.get(MessageSend, callback[len(CALLBACK_PREFIX) :][:36])
        if row is not None and row.status in ("sending", "unconfirmed"):
            row.status, row.wamid, row.sent_at = "sent", wamid, row.sent_at or at
            row.error = None
            log.info("send %s confirmed by Meta's status webhook as %s", row.id, wamid)
            claimed = Claimed(
                row.id,
                row.wa_id,
                row.origin,
                row.kind,
                row.flow,
                row.flow_token,
                row.body,
                row.sent_as or row.kind,
                row.attempts,
            )
            _store_outbound(session, claimed, wamid, at)
    session.execute(
        update(MessageSend)
        .where(MessageSend.wamid == wamid)
        .where(or_(MessageSend.meta_status_at.is_(None), MessageSend.meta_status_at <= at))
        .values(meta_status=state, meta_status_at=at)
    )


def cancel(session: Session, send_id: str) -> tuple[MessageSend | None, bool]:
    """Cancel a pending send: (the row as it now is or None for an unknown id, cancelled)."""
    row = session.get(MessageSend, send_id, with_for_update=True)
    if row is None or row.status != "pending":
        return row, False
    row.status, row.error = "cancelled", "cancelled through the API"
    return row, True
