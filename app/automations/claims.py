"""Claiming due sends and recording Meta's answers, a batch per statement.

The rules of app/automations/sends.py (intent before the POST, `sending` only from `pending`,
the window and the human pause checked now) with Core statements: one SELECT (the send with
its contact's window and pause), one UPDATE per outcome kind, one INSERT of the stored
outbound messages. Per-row ORM work cost more than the POST itself (bench/README.md).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.automations.sends import Claimed, callback_of, failure, pause
from app.leads.window import window_state
from app.models import Contact, ContactAutomation, MessageSend, OutboundMessage

log = logging.getLogger("flowgate.automations")

_S = MessageSend.__table__
_C = Contact.__table__
_A = ContactAutomation.__table__
_ORPHANS = (
    update(_S)
    .where(_S.c.status == "sending", _S.c.lease_expires_at < bindparam("now"))
    .values(
        status="unconfirmed",
        error="the worker stopped after posting began; not sent again (at most once)",
    )
)
_DUE = (
    select(
        _S.c.id,
        _S.c.wa_id,
        _S.c.origin,
        _S.c.rule,
        _S.c.kind,
        _S.c.flow,
        _S.c.flow_token,
        _S.c.body,
        _S.c.fallback,
        _S.c.pausable,
        _S.c.attempts,
        _C.c.last_inbound_at,
        _C.c.re_engagement_error_at,
        _A.c.paused_until,
    )
    .select_from(_S.outerjoin(_C, _C.c.wa_id == _S.c.wa_id).outerjoin(_A, _A.c.wa_id == _S.c.wa_id))
    .where(_S.c.status == "pending", _S.c.due_at <= bindparam("now"))
    .order_by(_S.c.due_at)
    .limit(bindparam("limit"))
    .with_for_update(of=_S, skip_locked=True)
)
_MARK = (
    update(_S)
    .where(_S.c.id == bindparam("b_id"))
    .values(
        status="sending",
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_lease"),
        attempts=bindparam("b_attempts"),
        sent_as=bindparam("b_sent_as"),
    )
)
_SKIP = (
    update(_S)
    .where(_S.c.id == bindparam("b_id"), _S.c.status == "pending")
    .values(status="skipped", error=bindparam("b_error"))
)
_SENT = (
    update(_S)
    .where(_S.c.id == bindparam("b_id"))
    .where((_S.c.status == "sending") | (_S.c.status == "unconfirmed"))
    .values(status="sent", wamid=bindparam("b_wamid"), sent_at=bindparam("b_at"), error=None)
)


@cache
def _store_outbound(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(OutboundMessage.__table__).on_conflict_do_nothing(index_elements=["id"])


def claim(
    session: Session, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claimed]:
    """Decide and mark up to `limit` due sends `sending` (the caller commits before posting)."""
    conn = session.connection()
    orphaned = conn.execute(_ORPHANS, {"now": now}).rowcount
    if orphaned:
        log.warning("%d send(s) left unconfirmed by a stopped worker", orphaned)
    out, marks, skips = [], [], []
    lease = now + timedelta(seconds=lease_seconds)
    for row in conn.execute(_DUE, {"now": now, "limit": limit}):
        decided, reason = _decide(row, now)
        if decided is None:
            skips.append({"b_id": row.id, "b_error": reason})
            log.info(
                "send %s (%s) to %s skipped: %s", row.id, row.rule or row.origin, row.wa_id, reason
            )
            continue
        body, sent_as = decided
        attempts = row.attempts + 1
        marks.append(
            {
                "b_id": row.id,
                "b_owner": owner,
                "b_lease": lease,
                "b_attempts": attempts,
                "b_sent_as": sent_as,
            }
        )
        body = {**body, "biz_opaque_callback_data": callback_of(row.id)}
        out.append(Claimed.of(row, body, sent_as, attempts))
    if marks:
        conn.execute(_MARK, marks)
    if skips:
        conn.execute(_SKIP, skips)
    return out


def _decide(row: Any, now: datetime) -> tuple[tuple[dict[str, Any], str] | None, str]:
    """(body, kind sent) to send now, or (None, why it is skipped)."""
    if row.pausable and row.paused_until is not None and row.paused_until > now:
        return None, "paused: a person wrote to this contact"
    if row.kind == "template":
        return (row.body, row.kind), ""
    contact = SimpleNamespace(
        last_inbound_at=row.last_inbound_at, re_engagement_error_at=row.re_engagement_error_at
    )
    state = window_state(contact if row.last_inbound_at is not None else None, now)  # type: ignore[arg-type]
    if state.open:
        return (row.body, row.kind), ""
    if row.fallback:
        return (row.fallback, "template"), ""
    return None, f"window closed ({state.closed_reason}): free-form messages cannot be sent"


def record(
    session: Session,
    owner: str,
    results: list[tuple[Claimed, Any]],
    now: datetime,
    pause_seconds: float,
) -> None:
    """Write what Meta answered for each claimed send (a wamid string or an exception)."""
    conn = session.connection()
    sent = [(c, wamid) for c, wamid in results if isinstance(wamid, str)]
    if sent:
        conn.execute(_SENT, [{"b_id": c.id, "b_wamid": w, "b_at": now} for c, w in sent])
        stored = [
            {
                "id": wamid,
                "wa_id": c.wa_id,
                "kind": c.sent_as,
                "flow": c.flow if c.sent_as == c.kind else None,
                "flow_token": c.flow_token if c.sent_as == c.kind else None,
                "payload": c.body,
                "sent_at": now,
            }
            for c, wamid in sent
        ]
        conn.execute(_store_outbound(conn.dialect.name), stored)
        for c, _ in sent:
            if c.origin == "api":  # a person's scheduled message: the human pause starts now
                pause(session, c.wa_id, now + timedelta(seconds=pause_seconds))
    for claimed, outcome in results:
        if isinstance(outcome, str):
            continue
        row = session.get(MessageSend, claimed.id, with_for_update=True)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            continue  # someone else decided meanwhile
        row.lease_owner = row.lease_expires_at = None
        failure(session, row, outcome, now)
