"""The scale-out run of bench/scaleout.py in short: two app servers, two delivery workers, one
PostgreSQL (docs/scaling.md).

Real gunicorn instances with the production settings on ephemeral loopback ports, each with
its own instance folder and the same key, secrets and database schema; real `flowgate
worker` processes delivering to a loopback receiver. Every notification goes to one instance
and its re-delivery to the other, shuffled so copies race. Afterwards nothing may be lost or
doubled: one lead per nfm_reply, each event once per endpoint (verified with the
standardwebhooks package), each contact's window at its newest message. PostgreSQL only:
several servers over one SQLite file is not a supported deployment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scaleout import cluster, consistency, drain, notifications, post_all, postgres_schema
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs PostgreSQL (FLOWGATE_TEST_POSTGRES_URL)"
)


@pytest.mark.parametrize("backend", ["postgresql"])  # counted with the PostgreSQL tests
def test_two_instances_two_workers_lose_and_double_nothing(backend: str, tmp_path: Path) -> None:
    with postgres_schema(POSTGRES_URL) as url, cluster(url, tmp_path) as c:
        bases = [f"http://127.0.0.1:{s.port}" for s in c.servers]
        sent = notifications(45, 8, "ci", seed=7)  # 30 leads, 15 text messages, 8 contacts
        result = post_all(bases, sent, concurrency=6, seed=7)
        drain(c, timeout=20)
        checks = consistency(c, sent)
        requests = list(c.receiver.requests)

    assert result["requests"] == 90 and result["errors"] == 0, result
    assert checks == dict.fromkeys(checks, 0), checks
    # 30 leads, 2 endpoints: 60 deliveries, and both app servers took part.
    assert len(requests) == 60
    assert {r.path for r in requests} == {"/a", "/b"}
    for server in c.servers:
        assert server.pids_in_access_log("/webhooks/whatsapp"), server.port
