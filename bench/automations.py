"""Benchmark: auto-reply latency and the automations worker's send rate (docs/automations.md).

For each database (SQLite file; PostgreSQL when a URL is given):
1. Latency. A real `flowgate worker` process runs; inbound text notifications (each from a
   new contact, each matching a keyword rule) are POSTed, signed, to the app at a steady rate
   (in-process Flask test client). Measured: from the moment the notification's 200 is back to
   the moment the fake Cloud API receives the reply. Median and p99.
2. Send rate. N pending triggers are written (not timed), then one `AutomationRunner` in this
   process evaluates them and sends every reply (`run(drain=True)`, concurrency 8); the
   baseline is a raw loop of the same POSTs to the same fake with one kept-alive httpx client
   and no database. Runs alternate (worker, baseline) `--repeat` times; medians and spreads.
The fake Cloud API is a small asyncio HTTP/1.1 server in its own process answering Meta's
success shape. Loopback only.

    .venv/bin/python bench/automations.py
    .venv/bin/python bench/automations.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Goals: p99 under 2 s with one worker; the worker at least 0.5 of the raw loop's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.automations.runner import AutomationRunner, RunnerSettings  # noqa: E402
from app.config import Config  # noqa: E402
from app.crypto.keys import generate_private_key, private_pem  # noqa: E402
from app.crypto.signatures import hub_signature  # noqa: E402
from app.db import Database  # noqa: E402
from app.models import Base  # noqa: E402

SECRET = "bench-app-secret"
RULES = {
    "rules": [
        {
            "name": "hours",
            "on": "message.received",
            "when": {"keywords": ["open"]},
            "send": {"type": "text", "text": "Hi {contact_name}, we open at 9."},
        }
    ]
}

# --- the fake Cloud API (own process) --------------------------------------------------------


def _serve(conn: Connection) -> None:
    arrivals: list[tuple[str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length))
                arrivals.append((body.get("to", ""), time.time()))
                answer = json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.B{len(arrivals):08d}"}],
                    }
                ).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(answer)).encode()
                    + b"\r\n\r\n"
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        conn.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                return
            if command == "take":
                conn.send(list(arrivals))
                arrivals.clear()

    asyncio.run(main())


class Fake:
    def __init__(self) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        self.url = f"http://127.0.0.1:{self.conn.recv()}/v23.0"

    def take(self) -> list[tuple[str, float]]:
        self.conn.send("take")
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.proc.join(5)


# --- setup -----------------------------------------------------------------------------------


def fresh_database(postgres: str | None, folder: Path) -> str:
    if not postgres:
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        base = make_url(postgres).set(drivername="postgresql+psycopg")
        url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    db = Database(url)
    Base.metadata.create_all(db.engine)
    db.dispose()
    return url


def settings(url: str, fake: Fake, folder: Path) -> dict[str, str]:
    key = folder / "key.pem"
    if not key.exists():
        key.write_bytes(private_pem(generate_private_key(), "bench"))
    rules = folder / "automations.json"
    rules.write_text(json.dumps(RULES))
    instance = folder / "instance"
    instance.mkdir(exist_ok=True)
    return {
        "FLOWGATE_ENV": "production",
        "FLOWGATE_INSTANCE_PATH": str(instance),
        "FLOWGATE_DATABASE_URL": url,
        "FLOWGATE_FLOWS_DIR": str(ROOT / "flows"),
        "FLOWGATE_SCHEMAS_DIR": str(ROOT / "schemas"),
        "FLOWGATE_PRIVATE_KEY_FILE": str(key),
        "FLOWGATE_PRIVATE_KEY_PASSPHRASE": "bench",
        "FLOWGATE_APP_SECRET": SECRET,
        "FLOWGATE_TOKEN_SECRET": "bench-token-secret",
        "FLOWGATE_GRAPH_API_URL": fake.url,
        "FLOWGATE_ACCESS_TOKEN": "bench-access-token",
        "FLOWGATE_PHONE_NUMBER_ID": "1065",
        "FLOWGATE_AUTOMATIONS_FILE": str(rules),
    }


def notification(wa_id: str, n: int) -> bytes:
    message = {
        "from": wa_id,
        "id": f"wamid.in{n}.{uuid.uuid4().hex[:8]}",
        "timestamp": str(int(time.time()) - 1),
        "type": "text",
        "text": {"body": "are you open today?"},
    }
    value = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
        "messages": [message],
    }
    change = {"field": "messages", "value": value}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    return json.dumps(payload).encode()


def post_all(client: Any, count: int, rate: float, prefix: str) -> dict[str, float]:
    """POST `count` notifications at `rate` per second; when each one's 200 came back."""
    answered: dict[str, float] = {}
    start = time.monotonic()
    for n in range(count):
        wa_id = f"{prefix}{n:06d}"
        body = notification(wa_id, n)
        headers = {"X-Hub-Signature-256": hub_signature(SECRET, body)}
        if rate:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        response = client.post(
            "/webhooks/whatsapp", data=body, headers=headers, content_type="application/json"
        )
        answered[wa_id] = time.time()
        assert response.status_code == 200, response.get_data(as_text=True)
    return answered


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the two measurements ---------------------------------------------------------------------


def latency(env: dict[str, str], fake: Fake, count: int, rate: float, folder: Path) -> list[float]:
    app = create_app(Config.load(env, environ={}, dotenv_path=None))
    client = app.test_client()
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    worker_env.update(env)
    flowgate = Path(sys.executable).with_name("flowgate")
    log = open(folder / "worker.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([str(flowgate), "worker"], env=worker_env, stdout=log, stderr=log)
    try:
        # Warm-up: the worker process is up (imports, flows, rules) once a first reply arrives.
        post_all(client, 1, 0, "5511799")
        deadline = time.monotonic() + 60
        while not fake.take() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # idle again
        answered = post_all(client, count, rate, "5511700")
        deadline = time.monotonic() + 30
        arrivals: dict[str, float] = {}
        while len(arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.2)
            arrivals.update(dict(fake.take()))
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        app.extensions["flowgate"].db.dispose()
    missing = set(answered) - set(arrivals)
    assert not missing, f"{len(missing)} replies never arrived"
    return [arrivals[w] - answered[w] for w in answered]


def worker_rate(env: dict[str, str], fake: Fake, count: int, prefix: str) -> tuple[float, list]:
    config = Config.load(env, environ={}, dotenv_path=None)
    app = create_app(config)
    post_all(app.test_client(), count, 0, prefix)  # the triggers (not timed)
    app.extensions["flowgate"].db.dispose()
    fake.take()
    db = Database(config.database_url)
    runner = AutomationRunner(db, config, settings=RunnerSettings(concurrency=8))
    started = time.perf_counter()
    runner.run(drain=True)
    elapsed = time.perf_counter() - started
    db.dispose()
    bodies = [{"to": to} for to, _ in fake.take()]
    assert len(bodies) == count, f"worker sent {len(bodies)} of {count}"
    return count / elapsed, bodies


def raw_rate(fake: Fake, count: int) -> float:
    bodies = [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": f"5511600{n:06d}",
            "type": "text",
            "text": {"preview_url": False, "body": "Hi Bench, we open at 9."},
        }
        for n in range(count)
    ]
    headers = {"Authorization": "Bearer bench-access-token", "Content-Type": "application/json"}
    with httpx.Client(trust_env=False) as client:
        started = time.perf_counter()
        for body in bodies:
            data = json.dumps(body, separators=(",", ":")).encode()
            response = client.post(f"{fake.url}/1065/messages", content=data, headers=headers)
            response.json()["messages"][0]["id"]
        elapsed = time.perf_counter() - started
    fake.take()
    return count / elapsed


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}/s ({min(values):.0f}-{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL")
    parser.add_argument("--messages", type=int, default=200, help="latency: notifications")
    parser.add_argument("--rate", type=float, default=20.0, help="latency: notifications/s")
    parser.add_argument("--sends", type=int, default=500, help="rate: replies per run")
    parser.add_argument("--repeat", type=int, default=5, help="rate: alternated runs")
    args = parser.parse_args()
    fake = Fake()
    try:
        for name, postgres in [("sqlite", None), ("postgresql", args.postgres)]:
            if name == "postgresql" and not postgres:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                env = settings(fresh_database(postgres, folder), fake, folder)
                delays = latency(env, fake, args.messages, args.rate, folder)
                print(
                    f"{name}: reply latency over {len(delays)} notifications at "
                    f"{args.rate:g}/s: median {statistics.median(delays) * 1000:.0f} ms, "
                    f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
                    f"max {max(delays) * 1000:.0f} ms"
                )
                workers, raws = [], []
                for run in range(args.repeat):
                    env = settings(fresh_database(postgres, folder), fake, folder)
                    workers.append(worker_rate(env, fake, args.sends, f"55118{run:02d}")[0])
                    raws.append(raw_rate(fake, args.sends))
                ratio = statistics.median(workers) / statistics.median(raws)
                print(
                    f"{name}: {args.sends} replies, median of {args.repeat} alternated runs "
                    f"(min-max): worker {spread(workers)} (rules + sends + records), "
                    f"raw loop of POSTs {spread(raws)}; ratio {ratio:.2f}"
                )
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
