"""Benchmark: signed nfm_reply notifications per second through `POST /webhooks/whatsapp`.

For each database (a SQLite file; PostgreSQL when a URL is given) the app runs under
gunicorn in its own process (`--workers 2` sync workers by default; `--server production`:
the deployed settings of app/serving.py, gthread), bound to a loopback socket this script
opened. In the same server, with the same settings, beside the real route,
a baseline route `POST /bench/baseline` only inserts the raw body as one row and commits.
This script is the load generator (a thread pool of keep-alive clients); it posts the same
kind of body, signed the same way, to both routes, alternating rounds, and reports requests
per second, p50 and p99 latency and the ratio of the webhook's rate to the baseline's.

Each webhook request does the whole job: verify X-Hub-Signature-256, store and commit the raw
notification, then in a second transaction: contact upsert, token check, schema validation,
submission, flow.submitted event and one delivery (one subscribed endpoint exists), row marked
processed. After the run the script checks every notification became one valid lead.

    .venv/bin/python bench/ingest.py                                  # SQLite, 2,000 per round
    .venv/bin/python bench/ingest.py --requests 3000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Goal: the webhook reaches at least 50 % of the baseline's rate. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

APP_SECRET = "bench-app-secret"
TOKEN_SECRET = "bench-token-secret"
BASELINE_TABLE = "bench_baseline"
LEAD = {
    "name": "Ana Souza",
    "phone": "+55 11 91234-5678",
    "email": "ana@example.com",
    "service": "installation",
    "preferred_date": "2026-12-01",
}


# --- the server side (imported by gunicorn inside its own process) -----------------------------


def bench_app() -> Any:
    """The real app plus `POST /bench/baseline`: one INSERT of the raw body, one commit."""
    from flask import request

    from app import create_app
    from app.ids import new_id
    from app.web import runtime

    app = create_app()
    insert = text(f"INSERT INTO {BASELINE_TABLE} (id, body) VALUES (:id, :body)")

    @app.post("/bench/baseline")
    def baseline() -> tuple[str, int]:
        body = request.get_data(cache=False)
        with runtime().db.transaction() as session:
            session.execute(insert, {"id": new_id(), "body": body})
        return "ok", 200

    return app


# --- set-up -------------------------------------------------------------------------------------


def prepare(url: str, instance: Path) -> dict[str, str]:
    """Tables, a baseline table, one subscribed endpoint, a key; the server's environment."""
    from app.crypto.keys import generate_private_key, private_pem
    from app.db import Database
    from app.models import Base, WebhookEndpoint

    db = Database(url)
    Base.metadata.create_all(db.engine)
    blob = "BYTEA" if db.is_postgresql else "BLOB"
    with db.engine.begin() as conn:
        conn.execute(
            text(f"CREATE TABLE {BASELINE_TABLE} (id VARCHAR(36) PRIMARY KEY, body {blob})")
        )
    with db.transaction() as session:
        session.add(
            WebhookEndpoint(url="http://127.0.0.1:9/hook", events=["flow.submitted"], secret="x")
        )
    db.dispose()
    key_file = instance / "flow_private.pem"
    key_file.write_bytes(private_pem(generate_private_key(), None))
    return {
        "FLOWGATE_ENV": "production",
        "FLOWGATE_INSTANCE_PATH": str(instance),
        "FLOWGATE_DATABASE_URL": url,
        "FLOWGATE_FLOWS_DIR": str(ROOT / "flows"),
        "FLOWGATE_SCHEMAS_DIR": str(ROOT / "schemas"),
        "FLOWGATE_PRIVATE_KEY_FILE": str(key_file),
        "FLOWGATE_APP_SECRET": APP_SECRET,
        "FLOWGATE_TOKEN_SECRET": TOKEN_SECRET,
        "FLOWGATE_VERIFY_TOKEN": "bench",
    }


def start_server(
    env: dict[str, str], workers: int, server: str
) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn on a loopback socket opened here (no port race), ready when /healthz answers.

    `sync`: `workers` sync worker processes. `production`: app/serving.py as deployed
    (`gunicorn -c python:app.serving`: gthread, 64 threads) with `workers` processes. Either
    way both routes are served by the same server.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    config = ["-c", "python:app.serving"] if server == "production" else []
    command = [
        gunicorn, *config,
        "--bind", f"fd://{sock.fileno()}",
        "--workers", str(workers),
        "--chdir", str(ROOT / "bench"),
        "--pythonpath", str(ROOT),
        "--log-level", "warning",
        "ingest:bench_app()",
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env}, pass_fds=(sock.fileno(),))
    sock.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def notifications(count: int, tag: str) -> list[tuple[bytes, str]]:
    """`count` distinct signed nfm_reply notifications for lead_capture, built before timing."""
    from app.crypto.signatures import hub_signature
    from app.crypto.tokens import issue_token
    from app.endpoint.emulator import nfm_reply_notification

    out = []
    for i in range(count):
        wa_id = f"55119{i % 500:08d}"
        token = issue_token(TOKEN_SECRET, flow="lead_capture", wa_id=wa_id).flow_token
        payload = nfm_reply_notification(
            {**LEAD, "flow_token": token},
            wa_id=wa_id,
            message_id=f"wamid.{tag}.{i}",
            contact_name="Ana Souza",
        )
        body = json.dumps(payload).encode()
        out.append((body, hub_signature(APP_SECRET, body)))
    return out


# --- load ---------------------------------------------------------------------------------------


def run_load(base: str, path: str, bodies: list[tuple[bytes, str]], concurrency: int) -> dict:
    """Post every body once from `concurrency` keep-alive clients; rate and latencies."""
    chunks = [bodies[i::concurrency] for i in range(concurrency)]

    def worker(chunk: list[tuple[bytes, str]]) -> tuple[list[float], int]:
        latencies, errors = [], 0
        with httpx.Client(base_url=base, timeout=30) as client:
            for body, signature in chunk:
                started = time.perf_counter()
                response = client.post(
                    path,
                    content=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                )
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(worker, chunks))
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def check(url: str, expected: int) -> str:
    """Every webhook notification became exactly one valid lead with its outbox rows."""
    from app.db import Database
    from app.models import Delivery, Event, InboundNotification, Submission

    db = Database(url)
    try:
        with db.session() as s:
            n = {
                "notifications": s.scalar(select(func.count()).select_from(InboundNotification)),
                "processed": s.scalar(
                    select(func.count())
                    .select_from(InboundNotification)
                    .where(InboundNotification.status == "processed")
                ),
                "valid leads": s.scalar(
                    select(func.count()).select_from(Submission).where(Submission.status == "valid")
                ),
                "events": s.scalar(select(func.count()).select_from(Event)),
                "deliveries": s.scalar(select(func.count()).select_from(Delivery)),
            }
    finally:
        db.dispose()
    ok = all(value == expected for value in n.values())
    return ("ok: " if ok else "MISMATCH: ") + ", ".join(f"{k} {v}" for k, v in n.items())


def bench(name: str, url: str, args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        env = prepare(url, instance)
        process, base = start_server(env, args.workers, args.server)
        try:
            warm = notifications(100, "warm")
            run_load(base, "/webhooks/whatsapp", warm, args.concurrency)
            run_load(base, "/bench/baseline", warm, args.concurrency)
            totals: dict[str, list[dict]] = {"baseline": [], "webhook": []}
            for r in range(args.rounds):
                bodies = notifications(args.requests, f"r{r}")
                order = ["baseline", "webhook"] if r % 2 == 0 else ["webhook", "baseline"]
                for target in order:
                    path = "/bench/baseline" if target == "baseline" else "/webhooks/whatsapp"
                    totals[target].append(run_load(base, path, bodies, args.concurrency))
        finally:
            process.terminate()
            process.wait(timeout=30)
        verdict = check(url, 100 + args.requests * args.rounds)
    lines = []
    rates = {}
    for target, runs in totals.items():
        count = sum(r["requests"] for r in runs)
        seconds = sum(r["seconds"] for r in runs)
        rates[target] = count / seconds
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = max(r["p99"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        lines.append(
            f"| {name} | {target} | {count} | {rates[target]:.0f} | {p50:.1f} | {p99:.1f} "
            f"| {errors} |"
        )
    ratio = rates["webhook"] / rates["baseline"]
    lines.append(f"| {name} | webhook / baseline | | {ratio:.0%} | | | |")
    print(f"{name}: {verdict}", file=sys.stderr)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per target and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per target")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--server",
        choices=("sync", "production"),
        default="sync",
        help="gunicorn sync workers, or the production settings of app/serving.py (gthread)",
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    args = parser.parse_args()

    rows = ["| database | route | requests | req/s | p50 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args)
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        server = make_url(args.postgres).set(drivername="postgresql+psycopg")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = server.update_query_dict({"options": f"-csearch_path={schema}"})
            rows += bench("postgresql", url.render_as_string(hide_password=False), args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
