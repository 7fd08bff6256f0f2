"""What bounds a bench/scaleout.py run: CPU and run-queue time per part, PostgreSQL backend
states, repeated delivery attempts and logged errors (docs/scaling.md, "Where the next
bottleneck is"). Linux only (/proc, proc(5)); PostgreSQL only (pg_stat_activity)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.db import Database
from app.models import Delivery, DeliveryAttempt

if TYPE_CHECKING:
    from bench.scaleout import Cluster


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds `pid` used so far (all its threads, also ended ones: /proc/<pid>/stat) and
    seconds its live threads spent runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat,
    second field; threads that already ended are missing from this one). proc(5)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    waited = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            waited += int(task.read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return used, waited / 1e9


Snapshot = dict[str, dict[int, tuple[float, float]]]


def snapshot(c: Cluster) -> Snapshot:
    """CPU and run-queue seconds so far of every process of every part."""
    return {part: {p: cpu_seconds(p) for p in pids} for part, pids in components(c).items()}


def busy(before: Snapshot, after: Snapshot) -> Counter[str]:
    """Seconds each part ran (`part`) and waited for a CPU (`part: waiting`) between two
    snapshots; processes started in between count in full."""
    out: Counter[str] = Counter()
    for part, pids in after.items():
        for pid, (used, waited) in pids.items():
            used0, waited0 = before[part].get(pid, (0.0, 0.0))
            out[part] += used - used0
            out[f"{part}: waiting"] += waited - waited0
    return out


def components(c: Cluster) -> dict[str, list[int]]:
    """The processes of each part; PostgreSQL's are this run's backends (application_name)."""
    name = make_url(c.url).query["application_name"]
    admin = create_engine(make_url(c.url).difference_update_query(["application_name"]))
    with admin.connect() as conn:
        backends = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"), {"n": name}
        ).scalars()
        postgres = list(backends)
    admin.dispose()
    return {
        "app servers": [p for s in c.servers for p in (s.process.pid, *s.worker_pids)],
        "delivery workers": [w.pid for w in c.workers],
        "PostgreSQL backends": postgres,
        "load generator + receiver": [os.getpid()],
    }


@contextmanager
def backend_states(c: Cluster, into: Counter[str]) -> Iterator[None]:
    """Sample this run's PostgreSQL backends every 20 ms: how many are in each state (active
    on CPU, waiting on a lock or on I/O, idle in a transaction while the app computes)."""
    name = make_url(c.url).query["application_name"]
    # Autocommit: within one transaction pg_stat_activity would show the same snapshot.
    admin = create_engine(
        make_url(c.url).difference_update_query(["application_name"]),
        isolation_level="AUTOCOMMIT",
    )
    query = text(
        "SELECT CASE WHEN state = 'active' THEN 'active: '"
        " || COALESCE(wait_event_type || ' ' || wait_event, 'CPU')"
        " ELSE COALESCE(state, 'no state') END FROM pg_stat_activity WHERE application_name = :n"
    )
    stop = threading.Event()

    def sample() -> None:
        with admin.connect() as conn:
            while not stop.wait(0.02):
                into.update(conn.execute(query, {"n": name}).scalars())
                into["samples"] += 1

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        admin.dispose()


def repeated_attempts(c: Cluster) -> list[str]:
    """Each delivery that needed more than one attempt, with how each attempt ended (a
    repeat is Standard Webhooks' at-least-once at work: the receiver sees the webhook-id again).
    """
    db = Database(c.url)
    try:
        with db.session() as s:
            rows = s.execute(
                select(Delivery.event_id, DeliveryAttempt.worker, DeliveryAttempt.status_code,
                       DeliveryAttempt.duration_ms, DeliveryAttempt.error)
                .join(DeliveryAttempt, DeliveryAttempt.delivery_id == Delivery.id)
                .where(Delivery.attempts > 1)
                .order_by(Delivery.id, DeliveryAttempt.id)
            ).all()  # fmt: skip
    finally:
        db.dispose()
    return [f"{e} by {w}: status {code}, {ms} ms, {error}" for e, w, code, ms, error in rows]


def log_errors(tmp: Path) -> list[str]:
    """ERROR and Traceback lines the app servers and workers logged (their logs are in `tmp`)."""
    lines = []
    for log in sorted([*tmp.glob("worker-*.log"), *tmp.glob("instance-*/gunicorn.log")]):
        for line in log.read_text(errors="replace").splitlines():
            if " ERROR " in line or "Traceback" in line or "[ERROR]" in line:
                lines.append(f"{log.relative_to(tmp)}: {line}")
    return lines
