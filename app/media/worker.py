"""The media worker: threads that claim a file, fetch it and record the result.

It runs inside `flowgate worker` next to webhook delivery (app/cli/worker.py), or alone in
tests and benchmarks. Each thread loops claim (one short transaction) → fetch (no
transaction open while bytes are on the wire) → record (one short transaction). The loop
thread also releases held `flow.submitted` events whose wait ran out (app/media/records.py).
A claim lasts longer than a fetch's deadline, so a live worker never loses one mid-file.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from app import clock
from app.config import Config
from app.db import Database
from app.delivery.pinning import pinned_client
from app.delivery.ssrf import parse_networks
from app.media import jobs
from app.media.download import STORED, FetchResult, FetchSettings, fetch
from app.media.links import LinkSigner, signer_from
from app.media.storage import FileStore

log = logging.getLogger("flowgate.media")
DRAIN_HORIZON = 2.0
RECORD_WITHIN = 0.5  # seconds a fetched file's result may wait to be written with others
START_WITHIN = 30.0  # seconds a claimed file may wait for its turn (the lease has 60 to spare)
SWEEP_INTERVAL = 1.0  # seconds between looks for held events whose wait ran out


@dataclass
class MediaWorkerSettings:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    concurrency: int = 2
    batch: int = 4  # files one claim takes (fewer transactions for small files)
    poll_interval: float = 1.0
    wait_seconds: float = 300.0
    retry_delays: tuple[float, ...] = jobs.RETRY_DELAYS
    owner: str = field(
        default_factory=lambda: (
            f"{socket.gethostname()[:60]}:{os.getpid()}:media:" + secrets.token_hex(4)
        )
    )

    @property
    def lease_seconds(self) -> float:
        return self.fetch.deadline + 60.0

    @classmethod
    def from_config(cls, config: Config, **overrides: object) -> MediaWorkerSettings:
        fetch_settings = FetchSettings(
            hosts=config.media_hosts,
            max_bytes=config.max_media_bytes,
            types=config.media_types,
            allow=parse_networks(config.webhook_allow_networks),
            graph_api_url=config.graph_api_url,
            access_token=config.access_token,
        )
        return cls(fetch=fetch_settings, wait_seconds=config.media_wait_seconds, **overrides)  # type: ignore[arg-type]


@dataclass
class MediaStats:
    stored: int = 0
    failed: int = 0
    retried: int = 0


class MediaWorker:
    """Fetches pending files until stopped (or, with `drain`, until none is due)."""

    def __init__(
        self,
        db: Database,
        store: FileStore,
        settings: MediaWorkerSettings,
        signer: LinkSigner | None,
        client: httpx.Client | None = None,
    ) -> None:
        self.db, self.store, self.settings, self.signer = db, store, settings, signer
        self.client = client or pinned_client(max_connections=settings.concurrency)
        self._own_client = client is None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.stats = MediaStats()

    @classmethod
    def from_config(cls, db: Database, config: Config, **overrides: object) -> MediaWorker:
        settings = MediaWorkerSettings.from_config(config, **overrides)
        return cls(db, FileStore(config.media_dir), settings, signer_from(config))

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, drain: bool = False, max_seconds: float | None = None) -> MediaStats:
        """Run the fetch threads; `drain` returns once no file is due within `DRAIN_HORIZON`
        seconds (a retry due later is left for the next run)."""
        s = self.settings
        self.store.clean_staging(older_than=s.lease_seconds)
        ends = None if max_seconds is None else time.monotonic() + max_seconds
        idle = [False] * s.concurrency
        threads = [
            threading.Thread(target=self._loop, args=(i, idle), name=f"media-{i}", daemon=True)
            for i in range(s.concurrency)
        ]
        for thread in threads:
            thread.start()
        next_sweep = 0.0
        try:
            while not self._stop.is_set():
                if ends is not None and time.monotonic() >= ends:
                    break
                if time.monotonic() >= next_sweep:
                    self._sweep()
                    next_sweep = time.monotonic() + SWEEP_INTERVAL
                if drain and all(idle) and not self._due_or_leased():
                    break
                self._stop.wait(min(s.poll_interval, 0.2) if drain else s.poll_interval)
        finally:
            self._stop.set()
            for thread in threads:
                thread.join()
            if self._own_client:
                self.client.close()
        return self.stats

    def _loop(self, index: int, idle: list[bool]) -> None:
        while not self._stop.is_set():
            try:
                worked = self.work_once()
            except Exception:
                log.exception("media worker turn failed; will retry")
                worked = False
            idle[index] = not worked
            if not worked:
                self._stop.wait(self.settings.poll_interval)

    def work_once(self) -> bool:
        """Claim up to `batch` files (one transaction), fetch each and record the results;
        False when nothing was due. Results of quick fetches are written together (one
        transaction), at the latest `RECORD_WITHIN` seconds after the first of them; a
        claimed file not started within `START_WITHIN` seconds of the claim is handed back,
        so no lease runs out while it waits its turn."""
        s = self.settings
        with self.db.transaction() as session:
            claimed = jobs.claim(session, s.owner, s.batch, s.lease_seconds, clock.now())
        if not claimed:
            return False
        started = time.monotonic()
        unrecorded: list[tuple[jobs.MediaJob, FetchResult]] = []
        first = 0.0
        try:
            for n, job in enumerate(claimed):
                if self._stop.is_set() or time.monotonic() - started > START_WITHIN:
                    with self.db.transaction() as session:
                        jobs.release(session, s.owner, claimed[n:], clock.now())
                    break
                if not unrecorded:
                    first = time.monotonic()
                unrecorded.append((job, fetch(self.client, self.store, job, s.fetch)))
                if time.monotonic() - first >= RECORD_WITHIN:
                    self._record(unrecorded)
                    unrecorded = []
        finally:
            if unrecorded:
                self._record(unrecorded)
        return True

    def _record(self, results: list[tuple[jobs.MediaJob, FetchResult]]) -> None:
        s = self.settings
        with self.db.transaction() as session:
            now = clock.now()
            kept = [
                jobs.record(session, s.owner, job, result, self.signer, now, s.retry_delays)
                for job, result in results
            ]
        for (job, result), recorded in zip(results, kept, strict=True):
            self._count(job, result, recorded)

    def _count(self, job: jobs.MediaJob, result: FetchResult, kept: bool) -> None:
        with self._lock:
            if result.status == STORED:
                self.stats.stored += 1
            elif result.status == "retry":
                self.stats.retried += 1
            else:
                self.stats.failed += 1
        level = logging.INFO if result.status == STORED else logging.WARNING
        log.log(
            level,
            "media %s attempt %d: %s %s%s",
            job.id,
            job.fence,
            result.status,
            result.error or "",
            "" if kept else " (claim lost; not recorded)",
        )

    def _sweep(self) -> None:
        try:
            with self.db.transaction() as session:
                jobs.release_overdue(session, self.settings.wait_seconds, self.signer, clock.now())
        except Exception:
            log.exception("releasing overdue media events failed; will retry")

    def _due_or_leased(self) -> bool:
        """Is any file still pending and due soon, or claimed by someone?"""
        from sqlalchemy import or_, select

        from app.models import MediaFile

        soon = clock.now() + timedelta(seconds=DRAIN_HORIZON)
        with self.db.session() as session:
            query = select(MediaFile.id).where(
                MediaFile.status == "pending",
                or_(MediaFile.next_attempt_at <= soon, MediaFile.lease_owner.is_not(None)),
            )
            return session.scalar(query.limit(1)) is not None
