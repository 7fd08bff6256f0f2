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
import queue
import secrets
import signal
import socket
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType

import httpx
from sqlalchemy import exists, select, text

from app import clock
from app.db import Database
from app.delivery.attempt_log import log_attempt
from app.delivery.claims import Job, claim, release
from app.delivery.outcomes import OutcomePolicy, apply_outcomes
from app.delivery.pinning import pinned_client
from app.delivery.schedule import RetryPolicy
from app.delivery.transport import DELIVERED, RETRY, AttemptResult, AttemptSettings, post_once
from app.metrics.counters import count_attempt
from app.models import Delivery, WebhookEndpoint
from app.models.enums import DeliveryStatus

log = logging.getLogger("flowgate.delivery")


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

    @property
    def max_inflight(self) -> int:
        """Claimed rows this worker may hold: up to 4x the concurrency (a queue that keeps
        the HTTP threads busy while results are written), as far as the lease outlasts the
        queued attempts ahead of a row plus its own (each bounded by the deadline)."""
        return self.settings.concurrency * self._prefetch

    @property
    def _prefetch(self) -> int:
        s = self.settings
        return max(1, min(4, int((s.lease_seconds - 5) // s.attempt.deadline)))

    def run(self, *, drain: bool = False, max_seconds: float | None = None) -> WorkerStats:
        """The loop. `drain` returns once no pending delivery of an enabled endpoint remains
        (tests, benchmarks, cron-style runs); `max_seconds` bounds the run."""
        s = self.settings
        ends = None if max_seconds is None else time.monotonic() + max_seconds
        inflight: dict[Future[None], Job] = {}
        done: queue.SimpleQueue[tuple[Job, AttemptResult]] = queue.SimpleQueue()
        pending: list[tuple[Job, AttemptResult]] = []
        pool = ThreadPoolExecutor(max_workers=s.concurrency, thread_name_prefix="deliver")
        # Each database round trip gives up the GIL; with the HTTP threads busy, getting it
        # back takes up to the switch interval (5 ms by default), which would make the one
        # thread that writes results the bottleneck. A shorter interval while running.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))

        def attempt(job: Job) -> None:
            try:
                result = post_once(
                    self.client, job.url, job.event_id, job.body, job.secrets, s.attempt
                )
            except Exception as exc:  # a bug must not strand the claim in this process
                log.exception("attempt of delivery %s crashed", job.delivery_id)
                result = AttemptResult(RETRY, error=f"internal error: {type(exc).__name__}")
            done.put((job, result))

        try:
            while True:
                if ends is not None and time.monotonic() >= ends:
                    self._stop.set()
                pending += self._collect(done, inflight)
                if self._stop.is_set():
                    self._release_unstarted(inflight)
                free = 0 if self._stop.is_set() else self.max_inflight - len(inflight)
                jobs, pending = self._cycle(pending, free)
                for job in jobs:
                    inflight[pool.submit(attempt, job)] = job
                if inflight:
                    continue
                if self._stop.is_set():
                    break  # unwritten results get a last try below
                if drain and not jobs and not pending and not self._work_left():
                    break
                if not jobs:
                    self._stop.wait(s.poll_interval)
        finally:
            self._release_unstarted(inflight)
            pool.shutdown(wait=True)
            while batch := self._collect(done, inflight, block=False):
                pending += batch
            self._cycle(pending, 0)
            if self._own_client:
                self.client.close()
            sys.setswitchinterval(switch)
        return self.stats

    def _release_unstarted(self, inflight: dict[Future[None], Job]) -> None:
        """On shutdown, hand back prefetched rows no thread has started (due again now)."""
        unstarted = [future for future in inflight if future.cancel()]
        if not unstarted:
            return
        jobs = [inflight.pop(future) for future in unstarted]
        try:
            release(self.db, self.settings.owner, jobs, clock.now())
        except Exception:  # their leases simply run out instead
            log.exception("releasing %d unstarted deliveries failed", len(jobs))

    def _collect(
        self,
        done: queue.SimpleQueue[tuple[Job, AttemptResult]],
        inflight: dict[Future[None], Job],
        *,
        block: bool = True,
    ) -> list[tuple[Job, AttemptResult]]:
        """Finished attempts: wait for the first (up to the poll interval), then take what
        else finishes within a few milliseconds, up to a batch (the concurrency, or twice it
        with a deep claim queue), so results are written in batches while the pool keeps
        sending."""
        out: list[tuple[Job, AttemptResult]] = []
        target = self.settings.concurrency * max(1, self._prefetch // 2)
        timeout = self.settings.poll_interval if block and inflight else 0.0
        while len(out) < target:
            try:
                job, result = done.get(timeout=timeout) if timeout else done.get_nowait()
            except queue.Empty:
                break
            out.append((job, result))
            timeout = 0.005 if block else 0.0
        finished = {id(job) for job, _ in out}
        for future in [f for f, job in inflight.items() if id(job) in finished]:
            del inflight[future]
        return out

    def _cycle(
        self, results: list[tuple[Job, AttemptResult]], free: int
    ) -> tuple[list[Job], list[tuple[Job, AttemptResult]]]:
        """Write `results` and claim up to `free` rows in one short transaction. On a
        database error nothing is lost: the results are kept for the next turn (and if the
        lease runs out first, the attempt is simply repeated)."""
        if not results and free <= 0:
            return [], results
        s = self.settings
        try:
            with self.db.transaction() as session:
                if self.db.is_postgresql:
                    # Losing these commits in a server crash only repeats attempts (claims
                    # and outcomes revert to a state that leads to a retry), so they need
                    # not wait for the WAL flush. The outbox rows themselves are written
                    # by the application's own, synchronous transactions.
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                now = clock.now()
                recorded = apply_outcomes(session, s.owner, results, s.outcome, now)
                jobs = claim(session, s.owner, free, s.lease_seconds, now)
        except Exception:
            log.exception("writing %d results / claiming failed; will retry", len(results))
            self._stop.wait(s.poll_interval)
            return [], results
        self.stats.recorded += recorded
        self.stats.claimed += len(jobs)
        for job, result in results:
            count_attempt(result.outcome, result.duration_ms / 1000)
            if result.outcome == DELIVERED:
                self.stats.delivered += 1
            log_attempt(job, result)
        return jobs, []

    def _work_left(self) -> bool:
        """Is any delivery of an enabled endpoint still pending (due now or later)?"""
        with self.db.session() as session:
            enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
            query = select(
                exists().where(
                    Delivery.status == DeliveryStatus.PENDING, Delivery.endpoint_id.in_(enabled)
                )
            )
            return bool(session.scalar(query))
