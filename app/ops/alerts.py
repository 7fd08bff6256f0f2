"""Meta's `flows` alerts for a flow: which are active, since when, and which have cleared.

Alerts are stored by app/leads/notifications/alerts.py as they arrive (docs/protocol.md §9.2).
Here the newest alert of each kind decides its state:
- ENDPOINT_ERROR_RATE, ENDPOINT_LATENCY, ENDPOINT_AVAILABILITY, CLIENT_ERROR_RATE: one kind
  per event and threshold; `alert_state` ACTIVATED makes it active, DEACTIVATED clears it.
- FLOW_STATUS_CHANGE: active while the newest change is to THROTTLED or BLOCKED; a change to
  anything else (PUBLISHED after recovery) clears it.
- FLOW_VERSION_EXPIRY_WARNING and any other event: active for VERSION_WARNING_DAYS.
Alerts older than VERSION_WARNING_DAYS are not read.
Meta names a Flow by its id; FLOWGATE_META_FLOW_IDS (`name=id,...`) tells which flow file it
is. An alert whose Flow id is not listed there is shown for every flow, marked
`"matched": false`, and changes no flow's status (docs/operations.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import isoformat
from app.models import FlowAlert

RATE_EVENTS = frozenset(
    {"ENDPOINT_ERROR_RATE", "ENDPOINT_LATENCY", "ENDPOINT_AVAILABILITY", "CLIENT_ERROR_RATE"}
)
STATUS_CHANGE = "FLOW_STATUS_CHANGE"
RESTRICTED = frozenset({"THROTTLED", "BLOCKED"})
VERSION_WARNING_DAYS = 30
CLEARED_SHOWN = timedelta(hours=24)


def parse_flow_ids(pairs: tuple[str, ...]) -> dict[str, str]:
    """`("name=id", ...)` → {meta flow id: flow name}; malformed pairs are ignored."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, meta_id = pair.partition("=")
        if sep and name.strip() and meta_id.strip():
            out[meta_id.strip()] = name.strip()
    return out


def _kind(alert: FlowAlert) -> tuple[Any, ...]:
    payload = alert.payload or {}
    if alert.event in RATE_EVENTS:
        return (alert.meta_flow_id, alert.event, str(payload.get("threshold")))
    return (alert.meta_flow_id, alert.event)


def _state(alert: FlowAlert, now: datetime) -> bool:
    payload = alert.payload or {}
    if alert.event in RATE_EVENTS:
        return str(payload.get("alert_state", "ACTIVATED")).upper() != "DEACTIVATED"
    if alert.event == STATUS_CHANGE:
        return str(payload.get("new_status", "")).upper() in RESTRICTED
    return now - alert.occurred_at < timedelta(days=VERSION_WARNING_DAYS)


def flow_alerts(
    session: Session, flow: str, flow_ids: dict[str, str], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(active alerts of `flow` and unmatched ones, those cleared in the last 24 h)."""
    mine = [meta_id for meta_id, name in flow_ids.items() if name == flow]
    since = now - timedelta(days=VERSION_WARNING_DAYS)  # older alerts are not read at all
    rows = session.scalars(
        select(FlowAlert).where(FlowAlert.occurred_at >= since).order_by(FlowAlert.occurred_at)
    ).all()
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for alert in rows:
        matched = alert.meta_flow_id in mine
        if not matched and alert.meta_flow_id in flow_ids:
            continue  # another flow's
        key = _kind(alert)
        active = _state(alert, now)
        previous = latest.get(key)
        activated = alert.occurred_at if active else None
        if active and previous is not None and previous["active"]:
            activated = previous["_activated"]  # still the same episode
        if not active and previous is not None and previous["active"]:
            activated = previous["_activated"]
        latest[key] = _describe(alert, matched, active, activated)
    active = [a for a in latest.values() if a["active"]]
    cleared = [a for a in latest.values() if not a["active"] and now - a["_at"] < CLEARED_SHOWN]
    for alert in active + cleared:
        alert.pop("_activated")
        alert.pop("_at")
    return active, cleared


def _describe(
    alert: FlowAlert, matched: bool, active: bool, activated: datetime | None
) -> dict[str, Any]:
    payload = alert.payload or {}
    keep = ("threshold", "alert_state", "old_status", "new_status", "error_rate",
            "p50_latency", "p90_latency", "availability", "requests_count", "errors")  # fmt: skip
    return {
        "event": alert.event,
        "meta_flow_id": alert.meta_flow_id,
        "matched": matched,
        "active": active,
        "activated_at": isoformat(activated),
        "deactivated_at": None if active else isoformat(alert.occurred_at),
        "message": payload.get("message"),
        **{k: payload[k] for k in keep if k in payload},
        "_activated": activated,
        "_at": alert.occurred_at,
    }
