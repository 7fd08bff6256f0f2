"""Window-aware sending from code: `send_at` (scheduled) and `fallback_template`.

A scheduled message is checked now like an immediate one (400 before anything is stored),
stored as a pending send, and sent by the worker when due; the window is checked then, and a
closed one sends the fallback template or skips the message (docs/automations.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import now
from app.errors import Conflict, InvalidRequest, NotFound
from app.ids import new_id
from app.messaging.graph import SendingNotConfigured
from app.messaging.payloads import FREE_FORM, MessageRequest, TemplateSpec
from app.messaging.prepare import prepare
from app.models import MessageSend, MessageStatus, OutboundMessage


def fallback_request(request: MessageRequest, spec: TemplateSpec) -> MessageRequest:
    """The template request that replaces a free-form one when the window is closed."""
    return MessageRequest(wa_id=request.wa_id, type="template", template=spec)


def check_fallback(request: MessageRequest, spec: TemplateSpec | None) -> None:
    if spec is not None and request.type not in FREE_FORM:
        raise InvalidRequest(
            "invalid body",
            details={"fallback_template": ["only for text and flow messages"]},
        )


def schedule(
    session: Session,
    registry: Any,
    token_secret: str | None,
    configured: bool,
    request: MessageRequest,
    fallback: TemplateSpec | None,
    send_at: datetime,
) -> MessageSend:
    """Store a checked message to be sent at `send_at` (commits)."""
    check_fallback(request, fallback)
    prepared = prepare(registry, token_secret, request)
    fallback_body = None
    if fallback is not None:
        fallback_body = prepare(registry, token_secret, fallback_request(request, fallback)).body
    if not configured:
        raise SendingNotConfigured(
            "Sending is not configured: set FLOWGATE_ACCESS_TOKEN and FLOWGATE_PHONE_NUMBER_ID."
        )
    send_id = new_id()
    row = MessageSend(
        id=send_id,
        idempotency_key=f"api:{send_id}",
        origin="api",
        wa_id=prepared.wa_id,
        kind=prepared.kind,
        flow=prepared.flow,
        flow_token=prepared.flow_token,
        body=prepared.body,
        fallback=fallback_body,
        pausable=False,
        status="pending",
        due_at=max(send_at, now()),
        attempts=0,
        created_at=now(),
    )
    session.add(row)
    session.commit()
    return row


def cancel_scheduled(session: Session, send_id: str) -> MessageSend:
    """DELETE: a pending message is cancelled; any other state is a 409 naming it."""
    from app.automations.sends import cancel

    row, cancelled = cancel(session, send_id) if len(send_id) <= 36 else (None, False)
    if row is None:
        session.rollback()
        raise NotFound(f"No scheduled message {send_id!r}.")
    if not cancelled:
        session.rollback()
        raise Conflict(
            f"Message {send_id} is {row.status}; only a pending message can be cancelled.",
            code="not_pending",
            details={"id": row.id, "status": row.status},
        )
    session.commit()
    return row


def view(row: MessageSend) -> dict[str, Any]:
    """A scheduled or automated message as the API shows it."""
    return {
        "id": row.id,
        "wa_id": row.wa_id,
        "type": row.kind,
        "origin": row.origin,
        "rule": row.rule,
        "status": row.status,
        "send_at": row.due_at,
        "sent_as": row.sent_as,
        "wamid": row.wamid,
        "meta_status": row.meta_status,
        "error": row.error,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


def find(session: Session, message_id: str) -> dict[str, Any]:
    """GET: a send by our id, or a message sent at once by its wamid."""
    row = session.get(MessageSend, message_id[:36]) if len(message_id) <= 36 else None
    if row is None:
        row = session.scalars(
            select(MessageSend).where(MessageSend.wamid == message_id[:128])
        ).first()
    if row is not None:
        return view(row)
    sent = session.get(OutboundMessage, message_id[:128])
    if sent is None:
        raise NotFound(f"No message {message_id!r}.")
    return {
        "id": sent.id,
        "wa_id": sent.wa_id,
        "type": sent.kind,
        "origin": "api",
        "rule": None,
        "status": "sent",
        "send_at": sent.sent_at,
        "sent_as": sent.kind,
        "wamid": sent.id,
        "meta_status": _latest_status(session, sent.id),
        "error": None,
        "created_at": sent.sent_at,
        "sent_at": sent.sent_at,
    }


def _latest_status(session: Session, wamid: str) -> str | None:
    """The newest Meta status stored for a message sent at once (app/leads statuses)."""
    return session.scalar(
        select(MessageStatus.status)
        .where(MessageStatus.message_id == wamid)
        .order_by(MessageStatus.occurred_at.desc())
        .limit(1)
    )
