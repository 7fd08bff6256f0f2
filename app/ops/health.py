"""A flow's health, judged the way Meta judges its endpoint (docs/operations.md).

Meta's alert levels (docs/protocol.md §12; https://developers.facebook.com/docs/whatsapp/flows/
guides/healthmonitoring): p90 latency over 1 s, 5 s or 7 s and an endpoint error rate over
5 %, 10 % or 50 %, both over 30 minutes; availability under 90 % over 10 minutes. Meta does
not say which level throttles a Flow, so the first level warns and the worst one is critical:

| rule | warning | critical |
|---|---|---|
| p90 latency, 30 min | > 1000 ms | > 7000 ms |
| error rate, 30 min | > 5 % | > 50 % |
| availability, 10 min | | < 90 % |
| Meta's own alerts (matched to this flow) | any active | THROTTLED or BLOCKED |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import isoformat
from app.models import FlowHealthMinute
from app.ops.alerts import RESTRICTED, STATUS_CHANGE, flow_alerts
from app.ops.rollup import BOUNDS_MS, minute_of

OK, WARNING, CRITICAL = "ok", "warning", "critical"
LEVELS = {OK: 0, WARNING: 1, CRITICAL: 2}
WINDOW_MINUTES = 30  # latency and error rate
AVAILABILITY_MINUTES = 10
LATENCY_WARNING_MS, LATENCY_CRITICAL_MS = 1000, 7000
ERROR_WARNING, ERROR_CRITICAL = 0.05, 0.50
AVAILABILITY_CRITICAL = 0.90


@dataclass
class Window:
    """Sums of a flow's rollup rows over some minutes."""

    requests: int = 0
    errors: int = 0
    unavailable: int = 0
    handler_errors: int = 0
    buckets: list[int] | None = None

    def add(self, row: FlowHealthMinute) -> None:
        self.requests += row.requests
        self.errors += row.errors
        self.unavailable += row.unavailable
        self.handler_errors += row.handler_errors
        counts = list(row.latency_buckets or [])
        if self.buckets is None:
            self.buckets = [0] * (len(BOUNDS_MS) + 1)
        for i, count in enumerate(counts[: len(self.buckets)]):
            self.buckets[i] += int(count)

    def quantile_ms(self, q: float) -> float | None:
        """Linear interpolation inside the bucket holding the q-th request (like PromQL's
        histogram_quantile); the open last bucket reports its lower bound (10 s)."""
        if not self.requests or self.buckets is None:
            return None
        rank, seen = q * sum(self.buckets), 0
        for i, count in enumerate(self.buckets):
            if count and seen + count >= rank:
                if i == len(BOUNDS_MS):
                    return float(BOUNDS_MS[-1])
                low = BOUNDS_MS[i - 1] if i else 0
                return round(low + (BOUNDS_MS[i] - low) * (rank - seen) / count, 1)
            seen += count
        return float(BOUNDS_MS[-1])


def window(session: Session, flow: str, now: datetime, minutes: int) -> Window:
    """The flow's figures in the last `minutes` minutes, the current one included."""
    since = minute_of(now) - timedelta(minutes=minutes - 1)
    rows = session.scalars(
        select(FlowHealthMinute).where(
            FlowHealthMinute.flow == flow, FlowHealthMinute.minute >= since
        )
    )
    out = Window()
    for row in rows:
        out.add(row)
    return out


def judge(flow: str, long: Window, short: Window, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """The health document of `flow` from its 30- and 10-minute windows and Meta's alerts."""
    p90 = long.quantile_ms(0.9)
    error_rate = round(long.errors / long.requests, 4) if long.requests else None
    availability = round(1 - short.unavailable / short.requests, 4) if short.requests else None
    reasons: list[dict[str, Any]] = []

    def reason(rule: str, level: str, value: Any, threshold: Any) -> None:
        reasons.append({"rule": rule, "level": level, "value": value, "threshold": threshold})

    if p90 is not None and p90 > LATENCY_CRITICAL_MS:
        reason("latency_p90_ms", CRITICAL, p90, LATENCY_CRITICAL_MS)
    elif p90 is not None and p90 > LATENCY_WARNING_MS:
        reason("latency_p90_ms", WARNING, p90, LATENCY_WARNING_MS)
    if error_rate is not None and error_rate > ERROR_CRITICAL:
        reason("error_rate", CRITICAL, error_rate, ERROR_CRITICAL)
    elif error_rate is not None and error_rate > ERROR_WARNING:
        reason("error_rate", WARNING, error_rate, ERROR_WARNING)
    if availability is not None and availability < AVAILABILITY_CRITICAL:
        reason("availability", CRITICAL, availability, AVAILABILITY_CRITICAL)
    for alert in alerts:
        if not alert["matched"]:
            continue
        restricted = alert["event"] == STATUS_CHANGE and (
            str(alert.get("new_status", "")).upper() in RESTRICTED
        )
        reason(f"meta_alert:{alert['event']}", CRITICAL if restricted else WARNING,
               alert.get("new_status") or alert.get("alert_state"), None)  # fmt: skip
    status = max((r["level"] for r in reasons), key=LEVELS.__getitem__, default=OK)
    return {
        "flow": flow,
        "status": status,
        "latency_p90_ms": p90,
        "latency_p50_ms": long.quantile_ms(0.5),
        "error_rate": error_rate,
        "availability": availability,
        "requests": long.requests,
        "errors": long.errors,
        "handler_errors": long.handler_errors,
        "window_minutes": WINDOW_MINUTES,
        "availability_window_minutes": AVAILABILITY_MINUTES,
        "reasons": reasons,
        "alerts": alerts,
    }


def flow_health(
    session: Session, flow: str, flow_ids: dict[str, str], now: datetime
) -> dict[str, Any]:
    """Everything `GET /api/v1/flows/<name>/health` answers, at `now`."""
    active, cleared = flow_alerts(session, flow, flow_ids, now)
    doc = judge(
        flow,
        window(session, flow, now, WINDOW_MINUTES),
        window(session, flow, now, AVAILABILITY_MINUTES),
        active,
    )
    doc["cleared_alerts"] = cleared
    doc["checked_at"] = isoformat(now)
    return doc
