"""The flow-session store: one row per (flow, flow token), the merged fields of every screen.

All functions work inside the caller's transaction and never commit. On PostgreSQL the row is
locked (`FOR UPDATE`) so two concurrent requests of one token merge one after the other;
SQLite write transactions are already serialised (BEGIN IMMEDIATE, app/db.py).

The row is read and written with Core statements built once at import and compiled once per
database to SQL text run on the DB-API cursor (`DBAPITransaction`), into a plain
`SessionRow`: one request reads one row and writes it back at most once, and the ORM's unit
of work, or even Core's per-statement machinery, cost more than the statements themselves
(bench/endpoint_cpu.py, bench/README.md). The table is still the ORM's `FlowSession`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from app.clock import now
from app.db import DBAPITransaction
from app.ids import new_id
from app.models import FlowSession
from app.prepared import Prepared

ACTIVE = "active"
COMPLETED = "completed"
ERROR = "error"

TABLE = FlowSession.__table__
C = TABLE.c
# The columns a request may change; the rest are fixed at creation.
MUTABLE = ("screen", "data", "status", "last_error", "submission_id")
_COLUMNS = (C.id, C.wa_id, *(C[name] for name in MUTABLE))
_SELECT = select(*_COLUMNS).where(C.flow == bindparam("f"), C.flow_token == bindparam("t"))
_FIND = Prepared(_SELECT)
_FIND_LOCKED = Prepared(_SELECT.with_for_update())
_INSERT = Prepared(
    insert(TABLE).values(
        {name: bindparam(name) for name in ("id", "flow", "flow_token", "wa_id", *MUTABLE)}
        | {name: bindparam(name) for name in ("created_at", "updated_at")}
    )
)
_UPDATE = Prepared(
    update(TABLE)
    .where(C.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in (*MUTABLE, "updated_at")})
)


@dataclass(eq=False)
class SessionRow:
    """One session as read (or about to be created); `save` writes what changed."""

    id: str
    flow: str
    flow_token: str
    wa_id: str | None
    screen: str | None
    data: dict[str, Any]
    status: str
    last_error: dict[str, Any] | None = None
    submission_id: str | None = None
    new: bool = False
    loaded: tuple[Any, ...] = ()

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in MUTABLE)


def find_session(tx: DBAPITransaction, flow: str, flow_token: str) -> SessionRow | None:
    """The session of this token, locked for update where the database supports it."""
    found = tx.fetch_one(_FIND_LOCKED if tx.is_postgresql else _FIND, {"f": flow, "t": flow_token})
    if found is None:
        return None
    row_id, wa_id, screen, data, status, last_error, submission_id = found
    row = SessionRow(
        row_id, flow, flow_token, wa_id, screen, data or {}, status, last_error, submission_id
    )
    row.loaded = row.values()
    return row


def open_session(tx: DBAPITransaction, flow: str, flow_token: str, wa_id: str | None) -> SessionRow:
    """The token's session, created (by `save`) on first use.

    Two first requests of one token racing both insert; the loser's insert fails on the
    (flow, flow_token) unique key and the caller routes it again (see service._route).
    """
    found = find_session(tx, flow, flow_token)
    if found is not None:
        return found
    return SessionRow(new_id(), flow, flow_token, wa_id, None, {}, ACTIVE, new=True)


def save(tx: DBAPITransaction, row: SessionRow | None) -> None:
    """Insert a new row, or update a read one when a request changed it."""
    if row is None or (not row.new and row.values() == row.loaded):
        return
    values = dict(zip(MUTABLE, row.values(), strict=True))
    stamp = now()
    if row.new:
        values |= {
            "id": row.id,
            "flow": row.flow,
            "flow_token": row.flow_token,
            "wa_id": row.wa_id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        tx.execute(_INSERT, values)
        row.new = False
    else:
        tx.execute(_UPDATE, values | {"row_id": row.id, "updated_at": stamp})
    row.loaded = row.values()


def merge_fields(row: SessionRow, fields: dict[str, Any], screen: str | None) -> dict[str, Any]:
    """Merge one screen's fields over what the session holds; returns the merged dict."""
    merged = {**(row.data or {}), **fields}
    row.data = merged
    if screen:
        row.screen = screen
    return merged


def record_client_error(
    tx: DBAPITransaction, flow: str, flow_token: str | None, report: dict[str, Any]
) -> bool:
    """Store an error notification against the token's session; False when there is none."""
    if not flow_token:
        return False
    row = find_session(tx, flow, flow_token)
    if row is None:
        return False
    row.last_error = report
    if row.status == ACTIVE:
        row.status = ERROR
    save(tx, row)
    return True
