"""What the endpoint records per request: Prometheus metrics and the health rollup.

Called by the endpoint's WSGI layer when the answer is ready, just before the server writes
it: it adds to every request's time and to the worker's CPU, so it stays small (a few cached
label children, one in-memory tally; bench/endpoint.py --metrics-cost measures it). Flow
labels come from flow files only: a request for an unknown flow is counted with an empty
flow and is not part of any flow's health.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.metrics.counters import EndpointMeter, action_label, outcome

if TYPE_CHECKING:
    from app.endpoint.service import Reply
    from app.ops.rollup import Rollup
    from app.runtime import Runtime


class EndpointObserver:
    """One per process (built with the app); thread-safe."""

    def __init__(self, runtime: Runtime | None = None, rollup: Rollup | None = None) -> None:
        self.meter = EndpointMeter()
        self.rollup = rollup
        # FLOWGATE_METRICS_ENABLED=0: record nothing (bench/endpoint.py measures the cost so).
        self.enabled = runtime is None or runtime.config.metrics_enabled
        if rollup is None and runtime is not None and self.enabled:
            from app.ops.rollup import Rollup

            self.rollup = Rollup.for_runtime(runtime)

    def observe(self, flow: str, reply: Reply | None, status: int, seconds: float) -> None:
        if not self.enabled:
            return
        action = action_label(reply.action) if reply is not None else ""
        result = outcome(status, seconds, reply is not None and reply.handler_error)
        self.meter.observe(flow, action, status, result, seconds)
        if flow and self.rollup is not None:
            self.rollup.observe(flow, status, result, seconds)
