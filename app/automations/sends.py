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

from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from app.automations.evaluate import TriggerRow
from app.leads.contacts import record_re_engagement_error
from app.leads.notifications.statuses import RE_ENGAGEMENT_CODE
from app.messaging.graph import GraphApiError, GraphUnreachable
from app.models import AutomationTrigger, ContactAutomation, MessageSend, OutboundMessage
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

    @classmethod
    def of(cls, row: Any, body: dict[str, Any], sent_as: str, attempts: int) -> Claimed:
        """The claim of send `row` (a `MessageSend` or a row of its columns), with the body,
        form and attempt count it goes out with."""
        return cls(row.id, row.wa_id, row.origin, row.kind, row.flow, row.flow_token, body,
                   sent_as, attempts)  # fmt: skip


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
) -> list[TriggerRow]:
    """Due pending triggers, locked (SKIP LOCKED: other workers take the others)."""
    t = AutomationTrigger.__table__.c
    soon = now + timedelta(seconds=warning_seconds)
    query = (
        select(t.id, t.key, t.event, t.wa_id, t.data)
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
    return [TriggerRow(*row) for row in session.execute(query)]


_FINISH = (
    update(AutomationTrigger.__table__)
    .where(AutomationTrigger.__table__.c.id == bindparam("b_id"))
    .values(status=bindparam("b_status"), note=bindparam("b_note"), processed_at=bindparam("b_at"))
)


def finish_triggers(session: Session, triggers: list[TriggerRow], now: datetime) -> None:
    """Write the triggers' outcomes (one statement)."""
    if triggers:
        session.execute(
            _FINISH,
            [{"b_id": t.id, "b_status": t.status, "b_note": t.note, "b_at": now} for t in triggers],
        )


def pause(session: Session, wa_id: str, until: datetime) -> None:
    """A person messaged `wa_id`: hold its message.received rules until `until`."""
    state = session.get(ContactAutomation, wa_id, with_for_update=True)
    if state is None:
        session.add(ContactAutomation(wa_id=wa_id, paused_until=until))
    elif state.paused_until is None or state.paused_until < until:
        state.paused_until = until
    session.flush()


def failure(session: Session, row: MessageSend, exc: Any, now: datetime) -> None:
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
            claimed = Claimed.of(row, row.body, row.sent_as or row.kind, row.attempts)
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
