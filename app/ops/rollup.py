"""The per-minute rollup of the endpoint's own requests, written by every app process.

Each process adds requests to in-memory counters per (flow, minute) and writes them to
`flow_health_minutes` every few seconds from a background thread, one row per process with
absolute values (an upsert: repeating it changes nothing). A reader sums the rows of a window
(app/ops/health.py), so the health check sees every gunicorn worker and every app server on a
shared database. Rows older than RETENTION are pruned by the same thread.

What counts (docs/operations.md, "Which answers count as errors"): `errors` are the answers
Meta counts against the endpoint's error rate: every status but 200 and 427, and timeouts;
`unavailable` are 5xx answers and timeouts (availability).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.models import FlowHealthMinute

if TYPE_CHECKING:
    from app.db import Database
    from app.runtime import Runtime

log = logging.getLogger("flowgate.health")

# Upper bounds, milliseconds; one more bucket counts everything slower. Fine around Meta's
# 1 s target and its 5 s / 7 s p90 alert levels (docs/protocol.md §12).
BOUNDS_MS = (10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 7000, 10000)
FLUSH_SECONDS = 10.0
RETENTION = timedelta(hours=3)
PRUNE_EVERY = timedelta(minutes=10)
# Answers Meta counts as endpoint errors and as unavailability (by outcome: app/metrics/).
NOT_ERRORS = frozenset({"success", "handler_error", "token_invalid", "not_found"})
UNAVAILABLE = frozenset({"server_error", "timeout"})


def minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass
class Tally:
    """One flow's requests in one minute, in this process."""

    requests: int = 0
    errors: int = 0
    unavailable: int = 0
    handler_errors: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BOUNDS_MS) + 1))

    def add(self, result: str, seconds: float) -> None:
        self.requests += 1
        self.errors += result not in NOT_ERRORS
        self.unavailable += result in UNAVAILABLE
        self.handler_errors += result == "handler_error"
        self.buckets[bisect_left(BOUNDS_MS, seconds * 1000)] += 1


class Rollup:
    """This process's tallies and their writer. Thread-safe; `flush` may be called anytime."""

    def __init__(self, db: Database, *, background: bool = False, on_flush: Any = None) -> None:
        self.db = db
        self.background = background
        self.on_flush = on_flush  # called after each background flush (health transitions)
        self._tallies: dict[tuple[str, int], Tally] = {}  # (flow, Unix minute)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._nonce = secrets.token_hex(4)
        self._pruned_at: datetime | None = None

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Rollup:
        """The app's rollup; writes in the background except under tests (they flush)."""
        from app.ops.transitions import evaluate_all

        def transitions() -> None:
            evaluate_all(runtime.db, runtime.registry, runtime.config)

        return cls(runtime.db, background=not runtime.config.testing, on_flush=transitions)

    @property
    def process(self) -> str:
        # Computed per call: the pid changes if the app was built before a fork.
        return f"{socket.gethostname()[:64]}:{os.getpid()}:{self._nonce}"

    def observe(self, flow: str, status: int, result: str, seconds: float) -> None:
        key = (flow, int(clock.now().timestamp()) // 60)  # the minute; cheaper than a datetime
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = Tally()
            tally.add(result, seconds)
        if self.background and self._thread is None:
            self.start()

    def flush(self) -> int:
        """Write every tally of this process; forget minutes that are over. Rows written."""
        with self._flush_lock:
            current = int(clock.now().timestamp()) // 60
            with self._lock:
                written = {key: tally.requests for key, tally in self._tallies.items()}
                rows = [
                    _row(flow, minute, tally) for (flow, minute), tally in self._tallies.items()
                ]
            if not rows:
                return 0
            process, stamp = self.process, clock.now()
            for row in rows:
                row.update(process=process, updated_at=stamp)
            table = FlowHealthMinute.__table__
            insert = pg_insert(table) if self.db.is_postgresql else sqlite_insert(table)
            statement = insert.on_conflict_do_update(
                index_elements=["flow", "minute", "process"],
                set_={c: insert.excluded[c] for c in _VALUES},
            )
            with self.db.transaction() as session:
                session.execute(statement, rows)
            with self._lock:
                for key, requests in written.items():
                    if key[1] < current and self._tallies[key].requests == requests:
                        del self._tallies[key]  # over and written in full
            return len(rows)

    def prune(self, now: datetime | None = None) -> int:
        """Delete rows older than RETENTION (any process's)."""
        cutoff = minute_of(now or clock.now()) - RETENTION
        table = FlowHealthMinute.__table__
        with self.db.transaction() as session:
            result = session.execute(delete(table).where(table.c.minute < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop the background writer and write what is left (gunicorn's worker_exit)."""
        self._stop.set()
        try:
            self.flush()
        except Exception:
            log.exception("health rollup: final write failed")

    def start(self) -> None:
        """Start the background writer (gunicorn starts it in every worker; otherwise the
        first request does), which also evaluates health transitions every FLUSH_SECONDS."""
        if not self.background:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="flowgate-health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self.flush()
                now = clock.now()
                if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                    self.prune(now)
                    self._pruned_at = now
                if self.on_flush is not None:
                    self.on_flush()
            except Exception:  # a database hiccup: keep counting, write next time
                log.exception("health rollup: write failed; will retry")


_VALUES = ("requests", "errors", "unavailable", "handler_errors", "latency_buckets", "updated_at")


def _row(flow: str, minute: int, tally: Tally) -> dict[str, Any]:
    return {
        "flow": flow,
        "minute": datetime.fromtimestamp(minute * 60, UTC),
        "requests": tally.requests,
        "errors": tally.errors,
        "unavailable": tally.unavailable,
        "handler_errors": tally.handler_errors,
        "latency_buckets": list(tally.buckets),
    }
