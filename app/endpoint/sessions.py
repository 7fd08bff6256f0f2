"""The flow-session store: one row per (flow, flow token), the merged fields of every screen.

All functions work inside the caller's transaction and never commit (nor flush). On
PostgreSQL the row is locked (`FOR UPDATE`) so two concurrent requests of one token merge one
after the other; SQLite write transactions are already serialised (BEGIN IMMEDIATE, app/db.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import FlowSession

ACTIVE = "active"
COMPLETED = "completed"
ERROR = "error"


def find_session(session: Session, flow: str, flow_token: str) -> FlowSession | None:
    """The session of this token, locked for update where the database supports it."""
    query = select(FlowSession).where(
        FlowSession.flow == flow, FlowSession.flow_token == flow_token
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def open_session(session: Session, flow: str, flow_token: str, wa_id: str | None) -> FlowSession:
    """The token's session, created on first use.

    Two first requests of one token racing both insert; the loser's flush fails on the
    (flow, flow_token) unique key and the caller routes it again (see service._route).
    """
    found = find_session(session, flow, flow_token)
    if found is not None:
        return found
    row = FlowSession(flow=flow, flow_token=flow_token, wa_id=wa_id, data={}, status=ACTIVE)
    session.add(row)
    return row


def merge_fields(row: FlowSession, fields: dict[str, Any], screen: str | None) -> dict[str, Any]:
    """Merge one screen's fields over what the session holds; returns the merged dict."""
    merged = {**(row.data or {}), **fields}
    row.data = merged  # a new dict, so SQLAlchemy sees the JSON change
    if screen:
        row.screen = screen
    return merged


def record_client_error(
    session: Session, flow: str, flow_token: str | None, report: dict[str, Any]
) -> bool:
    """Store an error notification against the token's session; False when there is none."""
    if not flow_token:
        return False
    row = find_session(session, flow, flow_token)
    if row is None:
        return False
    row.last_error = report
    if row.status == ACTIVE:
        row.status = ERROR
    return True
