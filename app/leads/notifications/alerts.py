"""`flows` field notifications: endpoint health alerts and flow status changes (§9.2).

Each alert is stored (FlowAlert) and logged so an operator sees it. Its id is derived from
its content, so the same alert delivered twice, alone or batched with others, is stored once.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.clock import now
from app.leads.notifications.reader import ProcessingContext, Report, text, unix_time
from app.leads.sanitize import clean_text
from app.models import FlowAlert

log = logging.getLogger("flowgate.meta")

_NAMESPACE = uuid.UUID("6f1c1f2e-4b8e-4a59-9d0e-2f5a8c1b7e43")


def record_alert(
    session: Session,
    ctx: ProcessingContext,
    entry: dict[str, Any],
    value: dict[str, Any],
    report: Report,
) -> None:
    """Store and log one alert unless the same one is already stored."""
    payload = clean_text(value)
    canonical = json.dumps([entry.get("id"), payload], sort_keys=True, default=str)
    alert_id = str(uuid.uuid5(_NAMESPACE, canonical))
    if session.get(FlowAlert, alert_id) is not None:
        return
    event = text(payload.get("event"), 64) or "UNKNOWN"
    raw_flow_id = payload.get("flow_id")
    flow_id = text(str(raw_flow_id), 64) if isinstance(raw_flow_id, str | int) else None
    occurred = unix_time(entry.get("time")) or unix_time(payload.get("timestamp")) or now()
    session.add(
        FlowAlert(
            id=alert_id,
            meta_flow_id=flow_id,
            event=event,
            payload=payload,
            occurred_at=occurred,
            notification_id=ctx.notification_id,
        )
    )
    report.alerts += 1
    level = logging.INFO if event == "FLOW_STATUS_CHANGE" else logging.WARNING
    log.log(
        level,
        "Meta flow alert %s for flow %s: %s",
        event,
        flow_id or "?",
        text(payload.get("message"), 500) or _describe(payload),
    )


def _describe(payload: dict[str, Any]) -> str:
    keys = (
        "alert_state",
        "old_status",
        "new_status",
        "threshold",
        "error_rate",
        "p90_latency",
        "availability",
    )
    return ", ".join(f"{k}={payload[k]}" for k in keys if k in payload) or "no details"
