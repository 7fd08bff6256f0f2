"""Every Prometheus metric Flowgate exports, and the way to add one (docs/operations.md).

The official client library (`prometheus_client`). Under gunicorn, app/serving.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before any metric exists, so each worker process
writes its values to its own memory-mapped file and a scrape sums them (the library's
multiprocess mode). Without it, values live in this process.

Labels stay bounded: flow names come from the flows/ files (never from a URL), actions from
the protocol's small vocabulary, statuses and outcomes from fixed lists. Never a wa_id, a
token or a URL.

Adding a metric from another area: call `counter`, `gauge` or `histogram` below at import
time of the module that updates it; the name must start with `flowgate_` and labels must be
bounded as above. It appears on `GET /metrics` (and on the worker's exposition when the
worker updates it) without any other registration.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

PREFIX = "flowgate_"
# Seconds. Fine below Meta's 1 s latency target, then its 5 s and 7 s p90 alert levels and the
# 10 s timeout (docs/protocol.md §6.2, §12).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7, 10, float("inf"))
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf"))
# Meta's endpoint timeout: an answer later than this was never seen by the client.
META_TIMEOUT_SECONDS = 10.0
# Actions of the data endpoint (docs/protocol.md §4); anything else is counted as `other`.
ACTIONS = frozenset({"ping", "INIT", "data_exchange", "BACK", "navigate", "complete"})

_lock = threading.Lock()
GaugeMode = Literal["livesum", "liveall", "livemax", "livemin", "sum", "max", "min", "all"]


def _existing(name: str) -> Any:
    # Re-importing a module (tests, reloaders) must not fail on a duplicate registration.
    return REGISTRY._names_to_collectors.get(name)


def _check(name: str) -> None:
    if not name.startswith(PREFIX):
        raise ValueError(f"Flowgate metric names start with {PREFIX!r}: {name!r}")


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter (`name` without the `_total` suffix, which the exposition adds)."""
    _check(name)
    with _lock:
        found = _existing(name + "_total") or _existing(name)
        return found if found is not None else Counter(name, documentation, tuple(labels))


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = LATENCY_BUCKETS,
) -> Histogram:
    """A histogram in seconds (`name` should end in `_seconds`)."""
    _check(name)
    with _lock:
        found = _existing(name + "_sum")
        if found is not None:
            return found
        return Histogram(name, documentation, tuple(labels), buckets=tuple(buckets))


def gauge(
    name: str, documentation: str, labels: Sequence[str] = (), mode: GaugeMode = "livesum"
) -> Gauge:
    """A gauge; `mode` says how the values of several processes combine (multiprocess mode)."""
    _check(name)
    with _lock:
        found = _existing(name)
        if found is not None:
            return found
        return Gauge(name, documentation, tuple(labels), multiprocess_mode=mode)


ENDPOINT_REQUESTS = counter(
    "flowgate_endpoint_requests",
    "Data endpoint requests by flow, action and HTTP status.",
    ("flow", "action", "status"),
)
ENDPOINT_SECONDS = histogram(
    "flowgate_endpoint_request_seconds",
    "Seconds the data endpoint took to answer (headers read to answer ready), by flow and action.",
    ("flow", "action"),
)
ENDPOINT_OUTCOMES = counter(
    "flowgate_endpoint_outcomes",
    "Data endpoint requests by outcome in Meta's terms (docs/operations.md).",
    ("flow", "outcome"),
)
LEADS = counter(
    "flowgate_leads", "Leads stored, by flow, source and status.", ("flow", "source", "status")
)
NOTIFICATIONS = counter(
    "flowgate_notifications",
    "Meta webhook notifications by result (processed, failed, invalid, duplicate, rejected).",
    ("result",),
)
DELIVERY_ATTEMPTS = counter(
    "flowgate_delivery_attempts",
    "Webhook delivery attempts by outcome (delivered, retry, throttled, gone).",
    ("outcome",),
)
DELIVERY_SECONDS = histogram(
    "flowgate_delivery_attempt_seconds",
    "Duration of one webhook delivery attempt, by outcome.",
    ("outcome",),
    DELIVERY_BUCKETS,
)

# Outcomes, one per request (docs/operations.md "Which answers count as errors").
SUCCESS = "success"
HANDLER_ERROR = "handler_error"
TIMEOUT = "timeout"
OUTCOME_BY_STATUS = {
    200: SUCCESS,
    400: "bad_request",
    404: "not_found",
    405: "bad_request",
    413: "too_large",
    421: "decryption_failed",
    427: "token_invalid",
    432: "signature_invalid",
}


def outcome(status: int, seconds: float, handler_error: bool) -> str:
    """The request's category: a timeout first (Meta never saw the answer), then by status."""
    if seconds > META_TIMEOUT_SECONDS:
        return TIMEOUT
    if status == 200 and handler_error:
        return HANDLER_ERROR
    return OUTCOME_BY_STATUS.get(status, "server_error")


def action_label(action: str | None) -> str:
    """The action as a bounded label: known ones as sent, `""` when unknown (not decrypted)."""
    if action is None:
        return ""
    return action if action in ACTIONS else "other"


class EndpointMeter:
    """The endpoint's hot-path recorder: label children are looked up once and cached."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int, str], tuple[Any, Any, Any]] = {}

    def observe(self, flow: str, action: str, status: int, result: str, seconds: float) -> None:
        key = (flow, action, status, result)
        children = self._children.get(key)
        if children is None:
            children = (
                ENDPOINT_REQUESTS.labels(flow, action, str(status)),
                ENDPOINT_SECONDS.labels(flow, action),
                ENDPOINT_OUTCOMES.labels(flow, result),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        children[2].inc()


def count_notification(result: str) -> None:
    NOTIFICATIONS.labels(result).inc()


def count_attempt(result: str, seconds: float) -> None:
    """One delivery attempt (called by the delivery worker as results are recorded)."""
    DELIVERY_ATTEMPTS.labels(result).inc()
    DELIVERY_SECONDS.labels(result).observe(seconds)
