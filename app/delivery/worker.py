"""The delivery worker behind `flowgate worker`.

One loop per process owns all database work; a thread pool only performs HTTP attempts. Each
turn: write the results that came back (one fenced transaction), claim as many due rows as
there are free slots (one short transaction, see claims.py), hand them to the pool, and wait
for the first attempt to finish or the poll interval to pass. No transaction is ever open
while a request is on the wire.

SIGTERM/SIGINT stop claiming; attempts already on the wire finish (each is bounded by the
attempt deadline) and their results are written before the process exits. Anything claimed
but not started is released. A worker that dies without that (SIGKILL, power loss) leaves
leases that run out after `lease_seconds`, and another worker repeats those attempts with the
same webhook-id: delivery is at least once.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import FrameType

import httpx
from sqlalchemy import exists, select

from app import clock
from app.db import Database
from app.delivery.claims import Job, claim_due, release
from app.delivery.outcomes import OutcomePolicy, record_outcomes
from app.delivery.pinning import pinned_client
from app.delivery.schedule import RetryPolicy
from app.delivery.transport import AttemptResult, AttemptSettings, post_once
from app.models import Delivery, WebhookEndpoint

log = logging.getLogger(__name__)


def default_owner() -> str:
    """A lease owner name unique to this process: host, pid and a random tag."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class WorkerSettings:
    """Knobs of one worker process (seconds unless named otherwise)."""

    concurrency: int = 8
    lease_seconds: float = 90.0
    poll_interval: float = 1.0
    attempt: AttemptSettings = field(default_factory=AttemptSettings)
    outcome: OutcomePolicy = field(
        default_factory=lambda: OutcomePolicy(RetryPolicy(schedule=(0,)))
    )
    owner: str = field(default_factory=default_owner)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        # A lease shorter than an attempt could expire while the request is on the wire.
        if self.lease_seconds <= self.attempt.deadline:
            raise ValueError("the lease must be longer than the attempt deadline")


@dataclass
class WorkerStats:
    claimed: int = 0
    recorded: int = 0
    delivered: int = 0


class Worker:
    """Claims, delivers and records until stopped (or, with `drain`, until no work is left)."""

    def __init__(
        self, db: Database, settings: WorkerSettings, client: httpx.Client | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.client = client or pinned_client(max_connections=settings.concurrency)
        self._own_client = client is None
        self._stop = threading.Event()
        self.stats = WorkerStats()

    def stop(self) -> None:
        """Ask the loop to finish what is in flight and return (thread- and signal-safe)."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: finishing in-flight deliveries", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, *, drain: bool = False, max_seconds: float | None = None) -> WorkerStats:
        """The loop. `drain` returns once no pending delivery of an enabled endpoint remains
        (tests, benchmarks, cron-style runs); `max_seconds` bounds the run."""
        s = self.settings
        ends = None if max_seconds is None else time.monotonic() + max_seconds
        inflight: dict[Future[AttemptResult], Job] = {}
        finished: list[tuple[Job, AttemptResult]] = []
        pool = ThreadPoolExecutor(max_workers=s.concurrency, thread_name_prefix="deliver")
        try:
            while True:
                if ends is not None and time.monotonic() >= ends:
                    self._stop.set()
                finished = self._write(finished)
                claimed = 0
                if not self._stop.is_set() and len(inflight) < s.concurrency:
                    claimed = self._claim(pool, inflight, s.concurrency - len(inflight))
                if not inflight:
                    if self._stop.is_set() and not finished:
                        break
                    if drain and not claimed and not finished and not self._work_left():
                        break
                    if not claimed:
                        self._stop.wait(s.poll_interval)
                    continue
                done, _ = wait(list(inflight), timeout=s.poll_interval, return_when=FIRST_COMPLETED)
                for future in done:
                    finished.append((inflight.pop(future), future.result()))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for future, job in inflight.items():
                if future.done() and not future.cancelled():
                    finished.append((job, future.result()))
            self._write(finished, final=True)
            leftover = [job for future, job in inflight.items() if future.cancelled()]
            if leftover:
                release(self.db, s.owner, leftover, clock.now())
            if self._own_client:
                self.client.close()
        return self.stats

    def _claim(
        self, pool: ThreadPoolExecutor, inflight: dict[Future[AttemptResult], Job], free: int
    ) -> int:
        s = self.settings
        try:
            jobs = claim_due(self.db, s.owner, free, s.lease_seconds, clock.now())
        except Exception:
            log.exception("claiming deliveries failed; retrying after the poll interval")
            self._stop.wait(s.poll_interval)
            return 0
        for job in jobs:
            future = pool.submit(
                post_once, self.client, job.url, job.event_id, job.body, job.secrets, s.attempt
            )
            inflight[future] = job
        self.stats.claimed += len(jobs)
        return len(jobs)

    def _write(
        self, finished: list[tuple[Job, AttemptResult]], *, final: bool = False
    ) -> list[tuple[Job, AttemptResult]]:
        """Record results; on a database error keep them for the next turn (until the
        lease runs out, after which the attempt will simply be repeated)."""
        if not finished:
            return finished
        try:
            self.stats.recorded += record_outcomes(
                self.db, self.settings.owner, finished, self.settings.outcome
            )
        except Exception:
            log.exception("recording %d outcomes failed", len(finished))
            return [] if final else finished
        self.stats.delivered += sum(1 for _, r in finished if r.outcome == "delivered")
        for job, result in finished:
            log.info(
                "delivery %s attempt %d: %s %s",
                job.delivery_id,
                job.fence,
                result.outcome,
                result.status_code or result.error,
            )
        return []

    def _work_left(self) -> bool:
        """Is any delivery of an enabled endpoint still pending (due now or later)?"""
        with self.db.session() as session:
            enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
            query = select(
                exists().where(Delivery.status == "pending", Delivery.endpoint_id.in_(enabled))
            )
            return bool(session.scalar(query))
