"""Benchmark: deliveries per second of one `flowgate` worker vs. the same POSTs without a DB.

For each database (SQLite file; PostgreSQL when a URL is given), in the same run:
- fill the outbox with N `flow.submitted` events for one endpoint (not timed);
- time one worker (`Worker.run(drain=True)`, default concurrency 8) delivering all of them to
  a fast loopback receiver: claims, signed POSTs, fenced result writes, attempt log;
- time the baseline: the same bodies POSTed with the same HTTP client and the same attempt
  code (signing, SSRF vetting, pinned transport, capped read) from a thread pool of the same
  size, with no database at all.
The receiver is a small asyncio HTTP/1.1 server in its own process (keep-alive, answers
`200 ok`), so its CPU does not compete with the worker's interpreter. It counts the requests
and distinct webhook-ids it saw; the script checks every event arrived.

    .venv/bin/python bench/delivery.py                       # SQLite, 2,000 events
    .venv/bin/python bench/delivery.py --events 5000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Goal: the worker reaches at least 50 % of the baseline's rate. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.db import Database  # noqa: E402
from app.delivery.outcomes import OutcomePolicy  # noqa: E402
from app.delivery.pinning import pinned_client  # noqa: E402
from app.delivery.schedule import RetryPolicy  # noqa: E402
from app.delivery.ssrf import parse_networks  # noqa: E402
from app.delivery.subscriptions import Guard, create_endpoint  # noqa: E402
from app.delivery.transport import AttemptSettings, post_once  # noqa: E402
from app.delivery.worker import Worker, WorkerSettings  # noqa: E402
from app.models import Base, Delivery  # noqa: E402
from app.models.outbox import enqueue_event  # noqa: E402

LOOPBACK = parse_networks(["127.0.0.1/32"])


# --- the receiver (own process) -------------------------------------------------------------


def _serve(conn: Connection) -> None:
    seen: set[str] = set()
    counter = {"requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    key = name.strip().lower()
                    if key == b"content-length":
                        length = int(value)
                    elif key == b"webhook-id":
                        seen.add(value.strip().decode())
                await reader.readexactly(length)
                counter["requests"] += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
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
            if await loop.run_in_executor(None, conn.poll, 0.2):
                command = conn.recv()
                if command == "stop":
                    conn.send((counter["requests"], len(seen)))
                    return
                if command == "reset":
                    seen.clear()
                    counter["requests"] = 0
                    conn.send("ok")

    asyncio.run(main())


class Receiver:
    def __init__(self) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        self.port = self.conn.recv()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def stop(self) -> tuple[int, int]:
        self.conn.send("stop")
        counts = self.conn.recv()
        self.proc.join(5)
        return counts


# --- the two contenders ---------------------------------------------------------------------


def fill(db: Database, url: str, n: int) -> tuple[str, list[bytes]]:
    """One endpoint and n events (untimed); returns the secret and the stored bodies."""
    with db.transaction() as session:
        endpoint = create_endpoint(session, url, None, guard=Guard(allow=LOOPBACK))
    bodies = []
    for start in range(0, n, 500):
        with db.transaction() as session:
            for i in range(start, min(n, start + 500)):
                data = {"submission_id": str(uuid.uuid4()), "flow": "lead_capture", "i": i}
                data["fields"] = {"name": "Ada Lovelace", "email": "ada@example.com"}
                bodies.append(enqueue_event(session, "flow.submitted", data).body.encode())
    return endpoint.secret, bodies


def run_worker(db: Database, concurrency: int) -> float:
    settings = WorkerSettings(
        concurrency=concurrency,
        lease_seconds=60,
        poll_interval=0.05,
        attempt=AttemptSettings(deadline=10, allow=LOOPBACK),
        outcome=OutcomePolicy(RetryPolicy((0, 1, 5))),
    )
    started = time.perf_counter()
    Worker(db, settings).run(drain=True)
    return time.perf_counter() - started


def run_baseline(url: str, secret: str, bodies: list[bytes], concurrency: int) -> float:
    settings = AttemptSettings(deadline=10, allow=LOOPBACK)
    with pinned_client(max_connections=concurrency) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = pool.map(
                lambda b: post_once(client, url, f"msg_{uuid.uuid4().hex}", b, [secret], settings),
                bodies,
            )
            failed = sum(1 for r in results if r.status_code != 200)
        elapsed = time.perf_counter() - started
    if failed:
        raise SystemExit(f"baseline: {failed} POSTs failed")
    return elapsed


# --- databases ------------------------------------------------------------------------------


def databases(postgres: str | None, tmp: Path) -> list[tuple[str, str, str | None]]:
    """(label, url, schema to drop afterwards)."""
    out: list[tuple[str, str, str | None]] = [
        ("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", None)
    ]
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        url = make_url(postgres).set(drivername="postgresql+psycopg")
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        pinned = url.update_query_dict({"options": f"-csearch_path={schema}"})
        out.append(("postgresql", pinned.render_as_string(hide_password=False), schema))
    return out


def drop_schema(postgres: str, schema: str) -> None:
    url = make_url(postgres).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", help="PostgreSQL URL (a scratch schema is used)")
    args = parser.parse_args()
    receiver = Receiver()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, url, schema in databases(args.postgres, Path(tmp)):
                db = Database(url)
                try:
                    Base.metadata.create_all(db.engine)
                    secret, bodies = fill(db, receiver.url, args.events)
                    receiver.reset()
                    base = run_baseline(receiver.url, secret, bodies, args.concurrency)
                    receiver.reset()
                    took = run_worker(db, args.concurrency)
                    with db.session() as session:
                        done = session.scalar(
                            select(func.count())
                            .select_from(Delivery)
                            .where(Delivery.status == "delivered")
                        )
                    if done != args.events:
                        raise SystemExit(f"{label}: only {done} of {args.events} delivered")
                    rows.append((label, args.events / took, args.events / base))
                finally:
                    db.dispose()
                    if schema and args.postgres:
                        drop_schema(args.postgres, schema)
    finally:
        count, distinct = receiver.stop()
    print(f"events per database: {args.events}, concurrency: {args.concurrency}")
    print(f"receiver saw {count} requests in the last phase ({distinct} distinct webhook-ids)")
    print(f"{'database':<12}{'worker/s':>12}{'baseline/s':>14}{'ratio':>9}")
    for label, worker_rate, base_rate in rows:
        ratio = worker_rate / base_rate
        print(f"{label:<12}{worker_rate:>12.0f}{base_rate:>14.0f}{ratio:>8.0%}")


if __name__ == "__main__":
    main()
