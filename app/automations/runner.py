"""The automations loop inside `flowgate worker`: triggers → sends → Meta → records.

Each turn: evaluate due triggers (one transaction), claim due sends and mark them `sending`
(one transaction, committed before any POST), post them concurrently, write the answers (one
transaction). No transaction is open while a request is on the wire. Between turns it waits
for a wake-up (app/automations/wakeup.py) instead of a fixed poll, so an auto-reply leaves
right after the notification that caused it is committed.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from app import clock
from app.automations.claims import claim, record
from app.automations.evaluate import insert_sends, paused_contacts, run_trigger
from app.automations.rules import RuleSet, load_rules
from app.automations.sends import Claimed, due_triggers, due_work, finish_triggers
from app.automations.wakeup import Wakeup
from app.config import Config
from app.db import Database
from app.delivery.worker import default_owner
from app.leads.triggers import add_triggers
from app.messaging.graph import GraphClient, sent_message_id
from app.models.enums import EventType

log = logging.getLogger("flowgate.automations")


@dataclass
class RunnerSettings:
    """Knobs of the automations loop (seconds)."""

    concurrency: int = 8
    lease_seconds: float = 60.0
    poll_interval: float = 0.1  # SQLite; PostgreSQL waits for NOTIFY up to idle_interval
    idle_interval: float = 1.0
    batch: int = 64
    owner: str = field(default_factory=default_owner)


@dataclass
class RunnerStats:
    triggers: int = 0
    sent: int = 0
    turns: int = 0


class AutomationRunner:
    """Runs rules and scheduled messages; `run()` blocks, `start()` runs it in a thread."""

    def __init__(
        self,
        db: Database,
        config: Config,
        registry: Any = None,
        settings: RunnerSettings | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = settings or RunnerSettings()
        if registry is None:
            from app.flowjson.registry import FlowRegistry

            registry = FlowRegistry.load(config.flows_dir, config.schemas_dir)
        self.registry = registry
        self.rules = rules or load_rules(
            config.automations_file, registry, config.window_warning_seconds
        )
        for finding in self.rules.findings:
            log.warning("automations: %s", finding.format())
        self.graph = GraphClient.from_config(config)
        self.stats = RunnerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None

    def stop(self) -> None:
        self._stop.set()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="automations", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self, *, drain: bool = False, max_seconds: float | None = None) -> RunnerStats:
        """Loop until stopped; `drain` returns when nothing is due any more (tests, bench)."""
        s = self.settings
        ends = None if max_seconds is None else time.monotonic() + max_seconds
        wakeup = Wakeup(self.db, self._stop)
        # As in the delivery worker (app/delivery/worker.py): with the sending threads busy, a
        # thread waiting for the GIL waits up to the switch interval (5 ms by default).
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        try:
            while not self._stop.is_set():
                if ends is not None and time.monotonic() >= ends:
                    break
                try:
                    busy = self.turn()
                except Exception:
                    log.exception("automations turn failed; retrying")
                    busy = False
                    self._stop.wait(s.idle_interval)
                if busy:
                    continue
                if drain:
                    break
                wakeup.wait(s.poll_interval if self.db.is_sqlite else s.idle_interval)
        finally:
            wakeup.close()
            self.close()
            sys.setswitchinterval(switch)
        return self.stats

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def turn(self) -> bool:
        """One pass; True when it found work (the caller then looks again at once)."""
        self.stats.turns += 1
        now = clock.now()
        with self.db.session() as session:
            warning = self.config.window_warning_seconds
            if not due_work(session, now, warning, sending=self.graph is not None):
                return False
        triggers = self._triggers(now)
        sent = self._sends(now) if self.graph is not None else 0
        return bool(triggers or sent)

    def _triggers(self, now: Any) -> int:
        config = self.config
        with self.db.transaction() as session:
            found = due_triggers(session, now, config.window_warning_seconds, self.settings.batch)
            wa_ids = {t.wa_id for t in found if t.wa_id and t.event == EventType.MESSAGE_RECEIVED}
            paused = paused_contacts(session, wa_ids, now)
            rows: list[dict[str, Any]] = []
            warnings: list[dict[str, Any]] = []
            for trigger in found:
                rows += run_trigger(
                    session,
                    trigger,
                    self.rules,
                    self.registry,
                    config.token_secret,
                    now,
                    paused,
                    warnings,
                )
            add_triggers(session, warnings)
            insert_sends(session, rows)
            finish_triggers(session, found, now)
        self.stats.triggers += len(found)
        return len(found)

    def _sends(self, now: Any) -> int:
        s = self.settings
        with self.db.transaction() as session:
            claimed = claim(session, s.owner, s.batch, s.lease_seconds, now)
        if not claimed:
            return 0
        results = list(zip(claimed, self._pool_map(claimed), strict=True))
        with self.db.transaction() as session:
            record(session, s.owner, results, clock.now(), self.config.human_pause_seconds)
        self.stats.sent += sum(1 for _, outcome in results if isinstance(outcome, str))
        return len(claimed)

    def _pool_map(self, claimed: list[Claimed]) -> list[Any]:
        assert self.graph is not None
        if self._http is None:
            self._http = self.graph.http_client(max_connections=self.settings.concurrency)
            self._pool = ThreadPoolExecutor(self.settings.concurrency, "automations-send")
        assert self._pool is not None
        return list(self._pool.map(self._post, claimed))

    def _post(self, claimed: Claimed) -> Any:
        """Meta's wamid, or the exception that says why not (never raises)."""
        assert self.graph is not None
        try:
            return sent_message_id(self.graph.send(claimed.body, http=self._http))
        except Exception as exc:
            return exc
