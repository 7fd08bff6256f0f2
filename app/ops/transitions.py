"""Noticing a flow's status change once, and announcing it as `flow.health_changed`.

Every app process evaluates after writing its rollup, and reading a flow's health evaluates
it too; a conditional update (`WHERE status = <the status read>`) lets exactly one of them
record a change, in the same transaction as the event (the outbox, docs/delivery.md). A flow
seen for the first time starts as `ok`: a first status other than ok is a change.
Event data: `{"flow", "status", "previous_status", "health": <the health document>}`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.models import FlowHealthState
from app.models.enums import EventType
from app.models.outbox import enqueue_event
from app.ops.alerts import parse_flow_ids
from app.ops.health import OK, flow_health

if TYPE_CHECKING:
    from app.config import Config
    from app.db import Database
    from app.flowjson.registry import FlowRegistry

log = logging.getLogger("flowgate.health")
_TABLE = FlowHealthState.__table__


def evaluate(
    db: Database, flow: str, config: Config, now: datetime | None = None
) -> dict[str, Any]:
    """The flow's health now; records (and announces) a status change.

    Read first without the write lock (the usual case: nothing changed); only a change opens
    a write transaction, which reads the stored status again before the conditional update.
    """
    now = now or clock.now()
    flow_ids = parse_flow_ids(config.meta_flow_ids)
    with db.session() as session:
        doc = flow_health(session, flow, flow_ids, now)
        stored = session.execute(select(_TABLE.c.status).where(_TABLE.c.flow == flow)).scalar()
    if (stored or OK) == doc["status"]:
        return doc
    try:
        with db.transaction() as session:
            _record(session, flow, doc, now)
    except IntegrityError:  # another process inserted the first state at the same moment
        pass
    return doc


def _record(session: Session, flow: str, doc: dict[str, Any], now: datetime) -> None:
    before = session.execute(select(_TABLE.c.status).where(_TABLE.c.flow == flow)).scalar()
    previous = before or OK
    if previous == doc["status"]:
        return  # another process recorded it in between
    keys = ("latency_p90_ms", "error_rate", "availability", "requests", "reasons")
    values = {"status": doc["status"], "changed_at": now, "details": {k: doc[k] for k in keys}}
    if before is None:
        session.execute(insert(_TABLE).values(flow=flow, **values))
    else:
        moved = session.execute(
            update(_TABLE)
            .where(_TABLE.c.flow == flow, _TABLE.c.status == previous)
            .values(**values)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return
    data = {"flow": flow, "status": doc["status"], "previous_status": previous, "health": doc}
    enqueue_event(session, EventType.FLOW_HEALTH_CHANGED, data)
    log.warning("flow %s health: %s -> %s %s", flow, previous, doc["status"],
                [r["rule"] for r in doc["reasons"]])  # fmt: skip


def evaluate_all(db: Database, registry: FlowRegistry | None, config: Config) -> None:
    """Evaluate every endpoint-powered flow (Meta's health applies to those only)."""
    if registry is None:
        return
    for definition in registry.all():
        if getattr(definition, "endpoint_powered", False):
            evaluate(db, definition.name, config)
