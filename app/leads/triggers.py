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

from sqlalchemy import bindparam, column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.clock import isoformat, now
from app.ids import new_id
from app.leads.attribution import AD, LINK, record_source, ref_in, referral_of
from app.leads.sanitize import clean_text
from app.leads.window import WINDOW, window_state
from app.models import AutomationTrigger, Contact
from app.models.enums import EventType
from app.models.outbox import enabled_endpoints, enqueue_event, subscribed
from app.prepared import Prepared, connection

CHANNEL = "flowgate_automations"
_TABLE = AutomationTrigger.__table__


_FIELDS = ("id", "key", "event", "wa_id", "data", "status", "due_at", "created_at")
# Written as text: SQLAlchemy's dialect `insert().on_conflict_do_nothing()` has no cache key,
# so it was compiled afresh on every call (about a quarter of a notification's CPU in
# bench/ingest_profile.py). The same SQL runs on SQLite (>= 3.35) and PostgreSQL; the typed
# bind parameters keep the columns' own encoding (JSON, UTC timestamps).
_COLUMNS = ", ".join(f'"{name}"' for name in _FIELDS)
_VALUES = ", ".join(f":{name}" for name in _FIELDS)
_INSERT_SQL = (
    f"INSERT INTO {_TABLE.name} ({_COLUMNS}) VALUES ({_VALUES}) "  # noqa: S608 (constants)
    'ON CONFLICT ("key") DO NOTHING RETURNING id'
)
_INSERT_NEW = (
    text(_INSERT_SQL)
    .bindparams(*(bindparam(name, type_=_TABLE.c[name].type) for name in _FIELDS))
    .columns(_TABLE.c.id)
)


# PostgreSQL: the NOTIFY rides on the insert (one round trip instead of two), and only a new
# row sends it. PostgreSQL delivers it at commit, once per transaction for the same payload.
_INSERT_NEW_NOTIFY = (
    text(
        f"WITH new AS ({_INSERT_SQL}) "  # noqa: S608 (constants)
        f"SELECT new.id, pg_notify('{CHANNEL}', '') AS notified FROM new"
    )
    .bindparams(*(bindparam(name, type_=_TABLE.c[name].type) for name in _FIELDS))
    .columns(_TABLE.c.id, column("notified"))
)


_PREPARED = {"sqlite": Prepared(_INSERT_NEW), "postgresql": Prepared(_INSERT_NEW_NOTIFY)}


def add_trigger(
    session: Session,
    key: str,
    event: str,
    wa_id: str | None,
    data: dict[str, Any],
    due_at: datetime | None = None,
    *,
    wait: bool = True,
) -> bool:
    """Insert a trigger unless one with `key` exists; True when it is new.

    `wait=False`: the answer is not read (False is returned), so inside
    `app.prepared.pipelined` the insert rides in the same round trip as its neighbours.
    """
    stamp = now()
    params = {
        "id": new_id(),
        "key": key[:255],
        "event": event,
        "wa_id": wa_id,
        "data": data,
        "status": "pending",
        "due_at": due_at or stamp,
        "created_at": stamp,
    }
    session.flush()  # as session.execute would (a no-op when nothing is pending)
    conn = connection(session)
    if not wait:
        _PREPARED[conn.dialect.name].run(conn, params)
        return False
    return bool(_PREPARED[conn.dialect.name].rows(conn, params))


def has_subscriber(session: Session, event_type: str) -> bool:
    """Does an enabled endpoint want `event_type`? Events nobody subscribes to are not stored
    (per inbound message this saves two inserts; endpoints get events from when they subscribe).
    """
    return any(subscribed(events, event_type) for _, events in enabled_endpoints(session))


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
) -> None:
    """An inbound user message: attribution, the trigger and the message.received event.

    Kept to one insert (plus the subscriber check) on this hot path: the window.expiring
    trigger and `first_in_window` are worked out by the worker (app/automations/evaluate.py).
    """
    body = message_text(message)
    body = clean_text(body)[:4096] if body else None
    ref = ref_in(body)
    referral = referral_of(message)
    if ref is not None:
        record_source(session, wa_id, LINK, ref, at or now())
    elif referral is not None:
        record_source(session, wa_id, AD, referral.get("source_id"), at or now())
    contact = session.get(Contact, wa_id)
    data = {
        "wa_id": wa_id,
        "contact_name": contact.profile_name if contact is not None else name,
        "wamid": wamid,
        "type": kind,
        "text": body,
        "referral": referral,
        "ref": ref,
        "window": window_state(contact, now()).to_dict(),
    }
    trigger = {**data, "at": isoformat(at)}
    if add_trigger(
        session, f"message.received:{key}", EventType.MESSAGE_RECEIVED, wa_id, trigger
    ) and has_subscriber(session, EventType.MESSAGE_RECEIVED):
        enqueue_event(session, EventType.MESSAGE_RECEIVED, data)


def warning_row(wa_id: str, at: datetime) -> dict[str, Any]:
    """The window.expiring trigger of the window a message at `at` opened or extended."""
    expires = isoformat(at + WINDOW)
    return {
        "id": new_id(),
        "key": f"window.expiring:{wa_id}:{expires}"[:255],
        "event": EventType.WINDOW_EXPIRING,
        "wa_id": wa_id,
        "data": {"wa_id": wa_id, "expires_at": expires},
        "status": "pending",
        "due_at": at + WINDOW,  # the worker runs it FLOWGATE_WINDOW_WARNING_SECONDS earlier
        "created_at": now(),
    }


@cache
def _insert_many(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])


def add_triggers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert triggers the worker itself writes (one statement, existing keys skipped)."""
    if rows:
        session.execute(_insert_many(session.get_bind().dialect.name), rows)


def earlier_in_window(session: Session, wa_id: str, at: datetime) -> bool:
    """Did another message from `wa_id` in the 24 h before `at` keep the window open? Read
    from the window.expiring triggers, which the worker writes in message order."""
    t = AutomationTrigger.__table__.c
    query = select(t.id).where(
        t.wa_id == wa_id,
        t.event == EventType.WINDOW_EXPIRING,
        t.due_at > at,
        t.due_at < at + WINDOW,
    )
    return session.execute(query.limit(1)).first() is not None


def note_submission(session: Session, data: dict[str, Any]) -> None:
    """A new valid lead (`data` is its flow.submitted event data)."""
    add_trigger(
        session,
        f"flow.submitted:{data['submission_id']}",
        EventType.FLOW_SUBMITTED,
        data.get("wa_id"),
        data,
        wait=False,
    )
