"""The production server for real: two gunicorn workers, keep-alive load, /metrics summed.

One server start serves two checks: GET /metrics reports exactly the known traffic whichever
worker answers the scrape (prometheus_client's multiprocess mode, docs/operations.md), and the
32 keep-alive connections are spread so that each worker serves at least a quarter of the
requests (docs/endpoint.md, "Spreading connections over workers"), seen by pid in the access
log.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app import clock
from app.db import Database
from app.models import FlowHealthMinute
from app.ops.health import flow_health
from tests.conftest import API_TOKEN
from tests.ops.server import Server, gunicorn, ping_request

CONNECTIONS, PER_CONNECTION = 32, 12
PATH = "/flows/appointment/endpoint"
AUTH = f"Bearer {API_TOKEN}"


def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    conn = server.connection()
    conn.request("GET", "/metrics")
    answer = conn.getresponse()
    assert answer.status == 200
    text = answer.read().decode()
    conn.close()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


HANDSHAKE = (
    "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=42"
)


def keep_alive_load(server: Server, key: rsa.RSAPrivateKey) -> list[int]:
    """32 connections opened first, then over each, all at once: 12 pings, a webhook handshake
    and an admin API request (the three surfaces share the server)."""
    requests = [ping_request(key) for _ in range(8)]
    conns = [server.connection() for _ in range(CONNECTIONS)]
    for conn in conns:
        conn.connect()

    def run(index: int) -> list[int]:
        conn, statuses = conns[index], []
        for i in range(PER_CONNECTION):
            body, headers, cipher = requests[(index + i) % len(requests)]
            conn.request("POST", PATH, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            statuses.append(answer.status)
            assert cipher.decrypt(payload) == {"data": {"status": "active"}}
        for path, headers in ((HANDSHAKE, {}), ("/api/v1/flows", {"Authorization": AUTH})):
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            statuses.append(answer.status)
        conn.close()
        return statuses

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        return [s for statuses in pool.map(run, range(CONNECTIONS)) for s in statuses]


def test_two_workers_share_keep_alive_load_and_metrics_sum_them(
    settings: dict[str, str], db: Database, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    with gunicorn(settings, 2, tmp_path) as server:
        statuses = keep_alive_load(server, private_key)
        conn = server.connection()
        for _ in range(3):  # a wrong signature: 432, counted for the flow, no action known
            body, headers, _ = ping_request(private_key)
            conn.request(
                "POST", PATH, body=body, headers={**headers, "X-Hub-Signature-256": "sha256=00"}
            )
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 432
        conn.request("POST", "/flows/no-such-flow/endpoint", body=b"{}")
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 404
        conn.close()
        before = samples(server)
        after = samples(server)
        pids = server.pids_in_access_log(PATH)
        other = server.pids_in_access_log("/webhooks/") + server.pids_in_access_log("/api/v1/")

    # Each worker wrote its share of the health rollup (the last part on its way out).
    with db.session() as session:
        health = flow_health(session, "appointment", {}, clock.now())
        processes = session.scalars(select(FlowHealthMinute.process).distinct()).all()
    total = CONNECTIONS * PER_CONNECTION
    assert (health["requests"], health["errors"]) == (total + 3, 3)
    assert {int(p.split(":")[1]) for p in processes} == set(server.worker_pids)
    assert statuses == [200] * (total + 2 * CONNECTIONS)
    ok = ("flowgate_endpoint_requests_total",
          (("action", "ping"), ("flow", "appointment"), ("status", "200")))  # fmt: skip
    assert before[ok] == after[ok] == total  # the same sum whichever worker answers
    bad = (
        "flowgate_endpoint_requests_total",
        (("action", ""), ("flow", "appointment"), ("status", "432")),
    )
    assert before[bad] == 3
    assert (
        before[
            ("flowgate_endpoint_requests_total", (("action", ""), ("flow", ""), ("status", "404")))
        ]
        == 1
    )
    outcome = "flowgate_endpoint_outcomes_total"
    assert before[(outcome, (("flow", "appointment"), ("outcome", "success")))] == total
    assert before[(outcome, (("flow", "appointment"), ("outcome", "signature_invalid")))] == 3
    count = (
        "flowgate_endpoint_request_seconds_count",
        (("action", "ping"), ("flow", "appointment")),
    )
    assert before[count] == total
    assert before[("flowgate_deliveries_pending", ())] == 0
    assert not any("no-such-flow" in str(key) for key in before)  # labels come from files only

    served = Counter(pids)
    assert len(pids) == total + 3
    assert len(served) == 2, served
    for pid, n in served.items():
        assert n >= 0.25 * len(pids), (pid, served)
    others = Counter(other)
    assert len(other) == 2 * CONNECTIONS
    assert set(others) == set(served)
    for pid, n in others.items():
        assert n >= 0.25 * len(other), (pid, others)
