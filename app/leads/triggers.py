"""Writing triggers in the transaction of what caused them (docs/automations.md).

Called from inbound message processing (`message.received`, and the `window.expiring` that
the message schedules) and from lead intake (`flow.submitted`). Each trigger has a unique key
derived from what caused it, so a notification Meta delivers twice adds nothing the second
time; the `message.received` webhook event is written only with a new trigger, for the same
reason. On PostgreSQL a NOTIFY wakes the worker when the transaction commits.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.clock import isoformat, now
from app.ids import new_id
from app.leads.attribution import AD, LINK, record_source, ref_in, referral_of
from app.leads.window import WINDOW, WindowState, window_state
from app.models import AutomationTrigger, Contact, WebhookEndpoint
from app.models.enums import EventType
from app.models.outbox import enqueue_event, subscribed

CHANNEL = "flowgate_automations"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")
_TABLE = AutomationTrigger.__table__
_SUBSCRIBERS = select(WebhookEndpoint.events).where(WebhookEndpoint.enabled.is_(True))
_PREVIOUS = select(Contact.last_inbound_at, Contact.re_engagement_error_at)


@cache
def _insert(dialect: str) -> Any:
    if dialect not in ("postgresql", "sqlite"):
        return insert(_TABLE)
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(_TABLE).on_conflict_do_nothing(index_elements=["key"]).returning(_TABLE.c.id)
    )


def add_trigger(
    session: Session,
    key: str,
    event: str,
    wa_id: str | None,
    data: dict[str, Any],
    due_at: datetime | None = None,
) -> bool:
    """Insert a trigger unless one with `key` exists; True when it is new."""
    stamp = now()
    dialect = session.get_bind().dialect.name
    row = session.execute(
        _insert(dialect),
        {
            "id": new_id(),
            "key": key[:255],
            "event": event,
            "wa_id": wa_id,
            "data": data,
            "status": "pending",
            "due_at": due_at or stamp,
            "created_at": stamp,
        },
    ).first()
    if row is not None and dialect == "postgresql":
        session.execute(_NOTIFY)
    return row is not None


def has_subscriber(session: Session, event_type: str) -> bool:
    """Does an enabled endpoint want `event_type`? Events nobody subscribes to are not stored
    (per inbound message this saves two inserts; endpoints get events from when they subscribe).
    """
    return any(subscribed(events, event_type) for events in session.scalars(_SUBSCRIBERS))


def previous_window(session: Session, wa_id: str | None) -> tuple[Any, Any] | None:
    """The contact's window inputs before a new message is recorded (None: never seen)."""
    if wa_id is None:
        return None
    row = session.execute(_PREVIOUS.where(Contact.wa_id == wa_id)).first()
    return (row[0], row[1]) if row is not None else None


def message_text(message: dict[str, Any]) -> str | None:
    """What the user wrote: text body, quick-reply button text, or a button/list title."""
    kind = message.get("type")
    part = message.get(kind) if isinstance(kind, str) else None
    part = part if isinstance(part, dict) else {}
    if kind == "text":
        value = part.get("body")
    elif kind == "button":
        value = part.get("text")
    elif kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        value = reply.get("title") if isinstance(reply, dict) else None
    else:
        value = None
    return value if isinstance(value, str) else None


def note_message(
    session: Session,
    message: dict[str, Any],
    *,
    wa_id: str,
    wamid: str | None,
    key: str,
    kind: str | None,
    at: datetime | None,
    name: str | None,
    previous: tuple[Any, Any] | None,
) -> None:
    """An inbound user message: attribution, the event and trigger, the window warning."""
    from app.leads.sanitize import clean_text

    body = message_text(message)
    body = clean_text(body)[:4096] if body else None
    ref = ref_in(body)
    referral = referral_of(message)
    moment = at or now()
    if ref is not None:
        record_source(session, wa_id, LINK, ref, moment)
    elif referral is not None:
        record_source(session, wa_id, AD, referral.get("source_id"), moment)
    contact = session.get(Contact, wa_id)
    state = window_state(contact, now())
    was_open = False
    if previous is not None and previous[0] is not None and at is not None:
        before = WindowState(False, previous[0], previous[0] + WINDOW, None)
        refused = previous[1] is not None and previous[1] >= previous[0]
        was_open = at < before.expires_at and not refused
    data = {
        "wa_id": wa_id,
        "contact_name": contact.profile_name if contact is not None else name,
        "wamid": wamid,
        "type": kind,
        "text": body,
        "referral": referral,
        "ref": ref,
        "window": state.to_dict(),
    }
    if add_trigger(
        session,
        f"message.received:{key}",
        EventType.MESSAGE_RECEIVED,
        wa_id,
        {**data, "first_in_window": not was_open},
    ) and has_subscriber(session, EventType.MESSAGE_RECEIVED):
        enqueue_event(session, EventType.MESSAGE_RECEIVED, data)
    if at is not None and state.expires_at is not None and state.last_inbound_at == at:
        expires = state.expires_at
        add_trigger(
            session,
            f"window.expiring:{wa_id}:{isoformat(expires)}",
            EventType.WINDOW_EXPIRING,
            wa_id,
            {"wa_id": wa_id, "expires_at": isoformat(expires)},
            due_at=expires,  # the worker runs it FLOWGATE_WINDOW_WARNING_SECONDS earlier
        )


def note_submission(session: Session, data: dict[str, Any]) -> None:
    """A new valid lead (`data` is its flow.submitted event data)."""
    add_trigger(
        session,
        f"flow.submitted:{data['submission_id']}",
        EventType.FLOW_SUBMITTED,
        data.get("wa_id"),
        data,
    )
