"""`flowgate worker` exposes its own metrics: a textfile (real worker process) or a port."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app.db import Database
from app.metrics.counters import count_attempt
from app.models import DeliveryAttempt
from app.ops import worker_exposition
from tests.delivery.conftest import add_endpoint, submit
from tests.delivery.processes import start_worker
from tests.delivery.receiver import Received, Receiver, Reply


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_worker_textfile_counts_attempts_by_outcome(
    settings: dict[str, str],
    db: Database,
    receiver: Callable[..., Receiver],
    tmp_path: Path,
) -> None:
    def script(n: int, _request: Received) -> Reply:
        return Reply(status=500 if n == 1 else 204)  # the first attempt fails, then all succeed

    hook = receiver(script)
    add_endpoint(db, hook.url)
    submit(db, 3)
    textfile = tmp_path / "worker.prom"
    worker = start_worker(
        settings, tmp_path, "--drain", "--poll", "0.1", "--metrics-textfile", str(textfile)
    )
    assert worker.wait(60) == 0
    found = values(textfile.read_text())
    counted = {
        labels[0][1]: n for (name, labels), n in found.items()
        if name == "flowgate_delivery_attempts_total"
    }  # fmt: skip
    assert counted["delivered"] == 3
    assert counted["retry"] >= 1  # the 500 (a loaded machine may add a timed-out attempt)
    assert found[("flowgate_delivery_attempt_seconds_count", (("outcome", "delivered"),))] == 3
    with db.session() as session:  # every attempt the worker logged, and no other, is counted
        logged = session.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert sum(counted.values()) == logged


def test_worker_port_serves_the_metrics() -> None:
    exposition = worker_exposition.start(port=0)
    try:
        count_attempt("gone", 0.2)
        url = f"http://127.0.0.1:{exposition.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
    finally:
        exposition.stop()
    assert values(text)[("flowgate_delivery_attempts_total", (("outcome", "gone"),))] >= 1
