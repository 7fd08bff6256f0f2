"""Contacts: upsert by wa_id from what Meta tells us, never moving time backwards.

Each write is one `INSERT ... ON CONFLICT (wa_id) DO UPDATE` (PostgreSQL and SQLite both have
it), so two app servers seeing the same new contact at once cannot collide, and the "newest
wins" rule is decided by the database on the row it holds, not by a value read earlier.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.clock import now
from app.leads.sanitize import clean_text, clip
from app.models import Contact
from app.prepared import Prepared, attach_loaded, connection

WA_ID_MAX = 32
NAME_MAX = 256
MESSAGE_ID_MAX = 128


# A wa_id Flowgate addresses (issues tokens for, sends to): the digits of a phone number in
# international form, without "+" or spaces (Cloud API "to" / contacts[].wa_id).
ADDRESSABLE_WA_ID = r"^[0-9]{5,20}$"
ADDRESSABLE_WA_ID_HELP = "5 to 20 digits, without + or spaces"


def addressable_wa_id(value: str) -> bool:
    """True for a wa_id Flowgate may issue a token for or send to (ADDRESSABLE_WA_ID)."""
    return re.fullmatch(ADDRESSABLE_WA_ID, value) is not None


def valid_wa_id(value: Any) -> str | None:
    """`value` if it can be a wa_id (a non-empty string that fits the column), else None."""
    if isinstance(value, str) and 0 < len(value) <= WA_ID_MAX and clean_text(value) == value:
        return value
    return None


def record_inbound(
    session: Session,
    wa_id: str,
    *,
    at: datetime | None,
    name: str | None = None,
    message_id: str | None = None,
) -> Contact:
    """Note an inbound user message from `wa_id` sent at `at` (None: time unknown).

    `last_inbound_at` only ever moves forward: an older message arriving late changes
    nothing but a missing profile name. The profile name follows the newest message.
    """
    name = clip(clean_text(name), NAME_MAX) or None
    message_id = message_id if message_id and len(message_id) <= MESSAGE_ID_MAX else None
    stamp = now()
    params = {
        "wa_id": wa_id,
        "profile_name": name,
        "last_inbound_at": at,
        "last_inbound_message_id": message_id if at is not None else None,
        "re_engagement_error_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    return _upsert(session, "inbound", params)


def record_re_engagement_error(session: Session, wa_id: str, *, at: datetime) -> Contact:
    """Note a 131047 status for `wa_id` at `at` (the newest such error is kept)."""
    stamp = now()
    params = {
        "wa_id": wa_id,
        "profile_name": None,
        "last_inbound_at": None,
        "last_inbound_message_id": None,
        "re_engagement_error_at": at,
        "created_at": stamp,
        "updated_at": stamp,
    }
    return _upsert(session, "refusal", params)


def _insert(dialect: str) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(Contact)


# The statements are built once per dialect: building and compiling an upsert costs more
# than running it, and a cached statement is compiled once by SQLAlchemy.
@cache
def _inbound_statement(dialect: str) -> Any:
    insert = _insert(dialect)
    new, old = insert.excluded, Contact.__table__.c
    newer = and_(
        new.last_inbound_at.is_not(None),
        or_(old.last_inbound_at.is_(None), new.last_inbound_at > old.last_inbound_at),
    )
    named = and_(new.profile_name.is_not(None), or_(newer, old.profile_name.is_(None)))
    return insert.on_conflict_do_update(
        index_elements=[old.wa_id],
        set_={
            "last_inbound_at": case((newer, new.last_inbound_at), else_=old.last_inbound_at),
            "last_inbound_message_id": case(
                (newer, new.last_inbound_message_id), else_=old.last_inbound_message_id
            ),
            "profile_name": case((named, new.profile_name), else_=old.profile_name),
            "updated_at": new.updated_at,
        },
    )


@cache
def _refusal_statement(dialect: str) -> Any:
    insert = _insert(dialect)
    new, old = insert.excluded, Contact.__table__.c
    newer = or_(
        old.re_engagement_error_at.is_(None),
        new.re_engagement_error_at > old.re_engagement_error_at,
    )
    return insert.on_conflict_do_update(
        index_elements=[old.wa_id],
        set_={
            "re_engagement_error_at": case(
                (newer, new.re_engagement_error_at), else_=old.re_engagement_error_at
            ),
            "updated_at": new.updated_at,
        },
    )


def _upsert(session: Session, kind: str, params: dict[str, Any]) -> Contact:
    session.flush()  # as an ORM query would (a no-op when nothing is pending)
    conn = connection(session)
    (row,) = _prepared(kind, conn.dialect.name).rows(conn, params)
    return _loaded(session, dict(zip(_NAMES, row, strict=True)))


def _loaded(session: Session, values: dict[str, Any]) -> Contact:
    """The upserted row as the session's Contact, refreshed in place if the session holds it.

    The same as an ORM query with `populate_existing`, without its per-call cost (this runs
    for every inbound message): later `session.get(Contact, wa_id)` calls see these values.
    """
    held = session.identity_map.get(identity_key(Contact, (values["wa_id"],)))
    if held is None:
        return attach_loaded(session, Contact, values)
    for name, value in values.items():
        set_committed_value(held, name, value)
    return held


@cache
def _prepared(kind: str, dialect: str) -> Prepared:
    """The upsert rendered once as text with typed parameters and typed result columns.

    SQLAlchemy never caches the compiled form of a dialect-specific INSERT (`inherit_cache =
    False`), and compiling this one costs more than running it; as text it is compiled once.
    """
    build = _inbound_statement if kind == "inbound" else _refusal_statement
    columns = list(Contact.__table__.c)
    module = postgresql if dialect == "postgresql" else sqlite
    statement = build(dialect).values(**{c.name: None for c in columns}).returning(*columns)
    sql = str(statement.compile(dialect=module.dialect(paramstyle="named")))
    clause = text(sql).bindparams(*(bindparam(c.name, type_=c.type) for c in columns))
    return Prepared(clause.columns(*columns), returning=columns)


_NAMES = tuple(c.name for c in Contact.__table__.c)
