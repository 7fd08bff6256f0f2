"""Meta's flow ids in the `meta_flows` table (app/models/metaflows.py).

A table rather than a file in the instance folder: several app servers share one database
(PostgreSQL), and each must send a Flow by its name with the id the last push stored.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messaging.payloads import MessageRequest
from app.models import MetaFlow


def stored(session: Session, waba_id: str, name: str) -> MetaFlow | None:
    return session.get(MetaFlow, (waba_id, name))


def meta_flow_id_for(session: Session, name: str, waba_id: str | None = None) -> str | None:
    """Meta's id of flow `name` for sending: the row of `waba_id`, or the only row by that
    name when no account is configured; None when unknown or ambiguous."""
    if waba_id:
        row = stored(session, waba_id, name)
        return row.meta_flow_id if row else None
    rows = session.scalars(select(MetaFlow).where(MetaFlow.name == name).limit(2)).all()
    return rows[0].meta_flow_id if len(rows) == 1 else None


def with_stored_flow_id(session: Session, request: MessageRequest) -> MessageRequest:
    """A Flow message naming only Flowgate's `flow` goes with the id the last push stored
    (docs/messaging.md); a request that names Meta's Flow itself is left as it is."""
    if request.type != "flow" or request.flow is None:
        return request
    if request.meta_flow_id is not None or request.meta_flow_name is not None:
        return request
    found = meta_flow_id_for(session, request.flow)
    return replace(request, meta_flow_id=found) if found else request
