"""Statuses of messages we sent: recorded once each; 131047 closes the contact's window.

Meta delivers statuses at least once and out of order (docs/protocol.md §9.4), so a
(message id, status) pair is stored once. A `failed` status carrying error 131047
("Re-engagement message", §10.2) means Meta refused a message because the 24-hour window was
closed; the contact's window is then reported closed until a newer inbound message arrives.
A status is about our outbound message: it never extends the window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.leads.contacts import record_re_engagement_error, valid_wa_id
from app.leads.notifications.reader import (
    ProcessingContext,
    Report,
    items,
    obj,
    text,
    unix_time,
)
from app.leads.sanitize import clean_text
from app.models import MessageStatus

RE_ENGAGEMENT_CODE = 131047
# Called for every status of a message Flowgate sent: (session, status, wamid, state, at).
# The automations engine, a higher layer, installs its own (app/automations/__init__.py), so
# this module does not import it.
SendStatusListener = Callable[[Session, dict[str, Any], str, str, datetime], None]
SEND_STATUS_LISTENERS: list[SendStatusListener] = []


def record_status(
    session: Session, ctx: ProcessingContext, raw: Any, where: str, report: Report
) -> None:
    """Store one `statuses[]` item (once) and apply a 131047 to its recipient."""
    status = obj(raw)
    if status is None:
        report.note(where, "status is not an object")
        return
    message_id = text(status.get("id"), 128)
    state = text(status.get("status"), 32)
    at = unix_time(status.get("timestamp"))
    if message_id is None or state is None or at is None:
        report.note(where, "status without a usable id, status or timestamp")
        return
    recipient = valid_wa_id(clean_text(status.get("recipient_id")))
    errors = [e for e in (obj(x) for x in items(status.get("errors"))) if e is not None]
    first = errors[0] if errors else {}
    code = error_code(first.get("code"))
    exists = session.scalar(
        select(MessageStatus.id).where(
            MessageStatus.message_id == message_id, MessageStatus.status == state
        )
    )
    if exists is None:
        session.add(
            MessageStatus(
                message_id=message_id,
                recipient_id=recipient,
                status=state,
                error_code=code,
                error_title=text(first.get("title"), 2000),
                occurred_at=at,
                payload=clean_text(status),
                notification_id=ctx.notification_id,
            )
        )
        report.statuses += 1
    for listener in SEND_STATUS_LISTENERS:  # our automated sends follow Meta's statuses
        listener(session, status, message_id, state, at)
    refused = any(error_code(e.get("code")) == RE_ENGAGEMENT_CODE for e in errors)
    if state == "failed" and refused and recipient is not None:
        record_re_engagement_error(session, recipient, at=at)


def error_code(value: Any) -> int | None:
    """A Meta error code (a JSON integer or a digit string) as an int, else None.

    Shared with app/messaging/graph.py, which reads the same codes from the Graph API's
    error answers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
