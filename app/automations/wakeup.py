"""Waking the automations loop as soon as a trigger is committed.

PostgreSQL: a dedicated connection LISTENs on `flowgate_automations`; the transaction that
writes a trigger runs `pg_notify` (app/leads/triggers.py), which PostgreSQL delivers at
commit (https://www.postgresql.org/docs/current/sql-notify.html). SQLite has no such
channel: the loop polls with a short interval, each poll one cheap read (WAL readers never
block writers).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.db import Database
from app.leads.triggers import CHANNEL

log = logging.getLogger("flowgate.automations")


class Wakeup:
    """`wait(timeout)` returns on a notification, on `stop`, or after `timeout` seconds."""

    def __init__(self, db: Database, stop: threading.Event) -> None:
        self.stop = stop
        self.conn: Any = None
        if db.is_postgresql:
            try:
                import psycopg

                url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self.conn = psycopg.connect(url, autocommit=True)
                self.conn.execute(f"LISTEN {CHANNEL}")
            except Exception as exc:  # polling still works, only slower
                log.warning("LISTEN unavailable (%s); polling instead", type(exc).__name__)
                self.conn = None

    def wait(self, timeout: float) -> None:
        if self.conn is None:
            self.stop.wait(timeout)
            return
        step = 0.25  # so `stop` is noticed promptly
        left = timeout
        try:
            while left > 0 and not self.stop.is_set():
                for _ in self.conn.notifies(timeout=min(step, left), stop_after=1):
                    return
                left -= step
        except Exception as exc:
            log.warning("LISTEN connection lost (%s); polling instead", type(exc).__name__)
            self.close()
            self.stop.wait(timeout)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                log.debug("closing the LISTEN connection failed", exc_info=True)
            self.conn = None
