"""Soak: the production configuration under steady keep-alive load, per gunicorn worker.

Starts what the README's Production section starts, on loopback, with PostgreSQL in a scratch
schema created here and dropped at the end:
- `flowgate keys generate` and `flowgate db upgrade` with the settings in the environment;
- `gunicorn -c python:app.serving wsgi:app` with WEB_CONCURRENCY=2 (gthread), on an
  ephemeral loopback port (FLOWGATE_BIND=127.0.0.1:0), access log with each answer's pid;
- one `flowgate worker` delivering every event to a loopback receiver (bench/delivery.py's
  asyncio receiver, in its own process, counting requests and distinct webhook-ids).

Load: signed Meta notifications (X-Hub-Signature-256, docs/webhooks.md), two nfm_reply leads
for every plain text message, over 96 keep-alive connections (one single-connection httpx
client each, all opened before the clock starts, requests dealt round-robin, so all 96 stay
in use as Meta's or a proxy's long-lived connections would). Open-loop at a steady rate:
`--rate` for `--seconds` (default 50/s for 240 s), then `--burst-rate` for `--burst-seconds`
(150/s for 30 s). Every few seconds each gunicorn worker's CPU is read from /proc/PID/stat.

Printed per phase: requests, errors, offered and achieved rate, each worker's CPU % (phase
average and the min-max of the samples), the ratio between the two workers, and requests per
worker from the access log's pid=. At the end: every acknowledged nfm_reply became exactly one
lead; every event was delivered once per webhook-id; the backlog's drain time after the load.

    .venv/bin/python bench/soak.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Bounded: at most rate*seconds + burst-rate*burst-seconds requests, the drain wait is capped
(`--drain-limit`), every process it started is stopped. Loopback only. Exits 1 when a
consistency check fails or the two workers' CPU differ by more than a factor of 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from delivery import LOOPBACK, Receiver  # noqa: E402  (bench/delivery.py)
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

BIN = Path(sys.executable).parent
CONNECTIONS = 96
PATH = "/webhooks/whatsapp"
SAMPLE_EVERY = 3.0
TICK = os.sysconf("SC_CLK_TCK")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
BOOTED = re.compile(r"worker ready \(pid (\d+)\)")
ACCESS_PID = re.compile(r'"POST /webhooks/whatsapp HTTP/1.1" (\d+) .* pid=<(\d+)>')
LEAD = {
    "name": "Ana Souza",
    "phone": "+55 11 91234-5678",
    "email": "ana@example.com",
    "service": "installation",
    "preferred_date": "2026-12-01",
}


# --- set-up: the README's commands ---------------------------------------------------------


def scratch_schema(postgres: str) -> tuple[str, str]:
    """A new schema; the server's URL written as the README writes it (`postgresql://`)."""
    schema = f"soak_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(postgres).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(postgres).set(drivername="postgresql")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(postgres: str, schema: str) -> None:
    admin = create_engine(make_url(postgres).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def production_env(url: str, tmp: Path) -> dict[str, str]:
    """Settings as tests/firstrun/test_production.py builds them, then the key and schema."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWGATE_", "PROMETHEUS_"))}
    env.pop("TESTING", None)
    env.update(
        FLOWGATE_DATABASE_URL=url,
        FLOWGATE_APP_SECRET=secrets.token_urlsafe(24),
        FLOWGATE_TOKEN_SECRET=secrets.token_urlsafe(32),
        FLOWGATE_API_TOKENS=secrets.token_urlsafe(32),
        FLOWGATE_PRIVATE_KEY_FILE=str(tmp / "etc" / "flow_private.pem"),
        FLOWGATE_INSTANCE_PATH=str(tmp / "instance"),
        FLOWGATE_VERIFY_TOKEN="soak",
        FLOWGATE_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    done = run(["flowgate", "keys", "generate"], env)
    found = re.search(r"passphrase[^:]*: (\S+)", done.stderr)
    if found:
        env["FLOWGATE_PRIVATE_KEY_PASSPHRASE"] = found.group(1)
    run(["flowgate", "db", "upgrade"], env)
    return env


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def subscribe(url: str, receiver_url: str) -> None:
    """One endpoint subscribed to every event type (flow.submitted and message.received)."""
    from app.db import Database
    from app.delivery.subscriptions import Guard, create_endpoint

    db = Database(url)
    with db.transaction() as session:
        create_endpoint(
            session,
            receiver_url,
            ["flow.submitted", "message.received"],
            guard=Guard(allow=LOOPBACK),
        )
    db.dispose()


def start_web(env: dict[str, str], tmp: Path) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    log = tmp / "web.log"
    web_env = dict(
        env,
        WEB_CONCURRENCY="2",
        FLOWGATE_BIND="127.0.0.1:0",
        FLOWGATE_ACCESS_LOG=str(tmp / "access.log"),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["gunicorn", "-c", "python:app.serving", "wsgi:app"],
            cwd=ROOT, env=web_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        port = LISTENING.search(content)
        pids = [int(p) for p in BOOTED.findall(content)]
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{content[-2000:]}")
        if port and len(pids) >= 2:
            return process, int(port.group(1)), pids
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def start_worker(env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    with (tmp / "worker.log").open("wb") as out:
        return subprocess.Popen(
            ["flowgate", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the notifications -----------------------------------------------------------------------


def notifications(count: int, tag: str, app_secret: str, token_secret: str) -> list[tuple]:
    """(body, signature, reply message id or None) as tests/leads/meta.py builds them."""
    from app.crypto.signatures import hub_signature
    from app.crypto.tokens import issue_token
    from app.endpoint.emulator import nfm_reply_notification

    out = []
    now = int(time.time())
    for i in range(count):
        wa_id = f"55119{i % 997:08d}"
        message_id = f"wamid.{tag}.{i}"
        if i % 3 == 2:
            payload: dict[str, Any] = {
                "object": "whatsapp_business_account",
                "entry": [{"id": "100000000000000", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
                    "messages": [{"from": wa_id, "id": message_id, "timestamp": str(now),
                                  "type": "text", "text": {"body": "hi"}}],
                }}]}],
            }  # fmt: skip
            reply = None
        else:
            token = issue_token(token_secret, flow="lead_capture", wa_id=wa_id).flow_token
            payload = nfm_reply_notification(
                {**LEAD, "flow_token": token},
                wa_id=wa_id,
                message_id=message_id,
                contact_name="Ana Souza",
                timestamp=now,
            )
            reply = message_id
        body = json.dumps(payload).encode()
        out.append((body, hub_signature(app_secret, body), reply))
    return out


# --- measuring ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (proc(5) fields 14, 15)


def waited_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (schedstat field 2)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue  # a thread that just ended
    return total / 1e9


def connections_per_pid(port: int) -> Counter[int]:
    """Established connections to `port` by the pid holding them (ss(8) from iproute2)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, timeout=10,
    ).stdout  # fmt: skip
    return Counter(int(m) for m in re.findall(r"pid=(\d+)", out))


class Sampler:
    """Each watched process's CPU % per interval, and per phase."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.last = (time.monotonic(), {n: cpu_seconds(p) for n, p in pids.items()})
        self.samples: list[dict[str, float]] = []

    def sample(self) -> None:
        now, cpu = time.monotonic(), {n: cpu_seconds(p) for n, p in self.pids.items()}
        span = now - self.last[0]
        self.samples.append({n: 100 * (cpu[n] - self.last[1][n]) / span for n in cpu})
        self.last = (now, cpu)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY)
            self.sample()

    def snapshot(self) -> tuple[float, dict[str, float], int, dict[str, float]]:
        cpu = {n: cpu_seconds(p) for n, p in self.pids.items()}
        waited = {n: waited_seconds(p) for n, p in self.pids.items()}
        return time.monotonic(), cpu, len(self.samples), waited


async def phase(
    clients: list[httpx.AsyncClient], bodies: list[tuple], rate: float
) -> dict[str, Any]:
    """Send every body, one every 1/rate s (open loop), round-robin over the connections."""
    acked: list[str] = []
    texts: list[str] = []
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    loop = asyncio.get_running_loop()

    async def send(i: int, body: bytes, signature: str, reply: str | None) -> None:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        began = loop.time()
        try:
            answer = await clients[i % len(clients)].post(PATH, content=body, headers=headers)
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            return
        latencies.append(loop.time() - began)
        if answer.status_code != 200:
            errors[str(answer.status_code)] += 1
        elif reply:
            acked.append(reply)
        else:
            texts.append("text")

    started = loop.time()
    tasks = []
    for i, (body, signature, reply) in enumerate(bodies):
        delay = started + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i, body, signature, reply)))
    sent = loop.time() - started
    await asyncio.gather(*tasks)
    done = loop.time() - started
    return {"acked": acked, "texts": len(texts), "errors": errors, "sent_in": sent,
            "done_in": done, "latencies": sorted(latencies)}  # fmt: skip


def access_pids(log: Path) -> list[tuple[int, int]]:
    """(status, pid) of each logged webhook POST, in order."""
    return [
        (int(m.group(1)), int(m.group(2)))
        for m in map(ACCESS_PID.search, log.read_text().splitlines())
        if m
    ]


def report_phase(
    label: str,
    rate: float,
    result: dict[str, Any],
    count: int,
    cpu: tuple[dict[str, float], float, list[dict[str, float]], dict[str, float]],
    served: Counter[int],
    workers: dict[str, int],
) -> float:
    totals, span, samples, waited = cpu
    errors = sum(result["errors"].values())
    print(f"\n== {label}: {count} requests offered at {rate:g}/s ==")
    print(
        f"requests {count}, errors {errors} {dict(result['errors']) or ''}; sent in "
        f"{result['sent_in']:.1f} s ({count / result['sent_in']:.1f}/s offered), all answered in "
        f"{result['done_in']:.1f} s ({(count - errors) / result['done_in']:.1f}/s achieved)"
    )
    lat = result["latencies"] or [0.0]
    p50, p99 = 1000 * lat[len(lat) // 2], 1000 * lat[int(len(lat) * 0.99)]
    print(
        f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {1000 * lat[-1]:.0f} ms "
        "(includes waiting for the connection's turn)"
    )
    averages = {}
    for name in workers:
        values = [s[name] for s in samples] or [0.0]
        averages[name] = 100 * totals[name] / span
        pid = workers[name] if name.startswith("web") else None
        extra = f", {served.get(pid, 0)} requests (access log)" if pid else ""
        spread = f"{min(values):.1f}-{max(values):.1f}"
        wait = waited[name] / span  # summed over its threads: can exceed 1
        print(
            f"{name:<18} CPU {averages[name]:5.1f} % (samples {spread} %), "
            f"run-queue wait {wait:.2f} thread-s/s{extra}"
        )
    web = sorted(averages[n] for n in workers if n.startswith("web"))
    ratio = web[-1] / web[0] if web[0] > 0 else float("inf")
    counts = sorted(served.values()) or [0]
    req_ratio = counts[-1] / counts[0] if counts[0] else float("inf")
    print(f"CPU ratio busier/idler worker: {ratio:.2f}; requests ratio: {req_ratio:.2f}")
    return ratio


async def load(
    args: argparse.Namespace,
    port: int,
    bodies: list[list[tuple]],
    sampler: Sampler,
    access: Path,
    workers: dict[str, int],
) -> tuple[list[str], int, list[float], float]:
    """Both phases over the same 96 connections; what was acknowledged, errors, CPU ratios."""
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=120)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for _ in range(CONNECTIONS)
    ]
    try:
        # Open all 96 connections before the clock starts (the kernel picks a worker for each).
        await asyncio.gather(*(c.get("/healthz") for c in clients))
        held = connections_per_pid(port)
        web = [pid for name, pid in workers.items() if name.startswith("web")]
        print("connections per worker: " + ", ".join(f"{p}: {held.get(p, 0)}" for p in web))
        task = asyncio.create_task(sampler.run())
        acked: list[str] = []
        errors, ratios, texts, last_answer = 0, [], 0, 0.0
        phases = [("steady", args.rate), ("burst", args.burst_rate)]
        for (label, rate), chunk in zip(phases, bodies, strict=True):
            before_log = len(access_pids(access))
            t0, cpu0, n0, wait0 = sampler.snapshot()
            result = await phase(clients, chunk, rate)
            t1, cpu1, n1, wait1 = sampler.snapshot()
            last_answer = t1
            await asyncio.sleep(0.5)  # access log lines of the last answers
            logged = access_pids(access)[before_log:]
            served = Counter(pid for _, pid in logged)
            totals = {n: cpu1[n] - cpu0[n] for n in cpu0}
            waited = {n: wait1[n] - wait0[n] for n in wait0}
            ratios.append(
                report_phase(label, rate, result, len(chunk),
                             (totals, t1 - t0, sampler.samples[n0:n1], waited), served, workers)
            )  # fmt: skip
            acked += result["acked"]
            errors += sum(result["errors"].values())
            texts += result["texts"]
        task.cancel()
        print(f"\nacknowledged: {len(acked)} nfm_reply leads, {texts} text messages")
        return acked, errors, ratios, last_answer
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def drain(url: str, limit: float, since: float) -> tuple[float, int]:
    """Seconds from `since` (the last answer, time.monotonic) until no delivery is pending or
    failing any more; the ones left after `limit`."""
    from app.db import Database
    from app.models import Delivery

    db = Database(url)
    started = time.monotonic()
    try:
        while True:
            with db.session() as session:
                left = session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status != "delivered")
                )
            if not left or time.monotonic() - started > limit:
                return time.monotonic() - since, left or 0
            time.sleep(0.1)
    finally:
        db.dispose()


def consistency(url: str, acked: list[str], received: tuple[int, int]) -> list[str]:
    from app.db import Database
    from app.models import Delivery, Event, Submission

    db = Database(url)
    problems = []
    with db.session() as session:
        leads = Counter(session.scalars(select(Submission.message_id)))
        statuses = Counter(session.scalars(select(Submission.status)))
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        types = Counter(session.scalars(select(Event.type)))
        deliveries = session.scalar(select(func.count()).select_from(Delivery)) or 0
        delivered = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
        )
    db.dispose()
    requests, distinct = received
    doubled = [m for m, n in leads.items() if n > 1]
    missing = set(acked) - set(leads)
    print("\n== consistency ==")
    print(
        f"acknowledged replies {len(acked)}, leads {sum(leads.values())} {dict(statuses)}, "
        f"missing {len(missing)}, duplicated {len(doubled)}"
    )
    print(
        f"events {events} {dict(types)}, deliveries {deliveries} ({delivered} delivered); "
        f"receiver saw {requests} requests, {distinct} distinct webhook-ids"
    )
    if missing or doubled or len(acked) != sum(leads.values()):
        problems.append("acknowledged replies and leads differ")
    if statuses.get("valid", 0) != len(acked):
        problems.append("not every lead is valid")
    if not (events == deliveries == delivered == distinct == requests):
        problems.append("events were not delivered exactly once per webhook-id")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_pg = os.environ.get(
        "FLOWGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--postgres", default=default_pg, help="server URL (scratch schema)")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--burst-rate", type=float, default=150.0)
    parser.add_argument("--burst-seconds", type=float, default=30.0)
    parser.add_argument("--drain-limit", type=float, default=120.0)
    args = parser.parse_args()

    schema, url = scratch_schema(args.postgres)
    processes: list[subprocess.Popen[bytes]] = []
    receiver = Receiver()
    received = (0, 0)
    try:
        with tempfile.TemporaryDirectory(prefix="flowgate-soak-") as tmp_name:
            tmp = Path(tmp_name)
            env = production_env(url, tmp)
            subscribe(url.replace("postgresql://", "postgresql+psycopg://", 1), receiver.url)
            steady = int(args.rate * args.seconds)
            burst = int(args.burst_rate * args.burst_seconds)
            every = notifications(
                steady + burst, uuid.uuid4().hex[:8],
                env["FLOWGATE_APP_SECRET"], env["FLOWGATE_TOKEN_SECRET"],
            )  # fmt: skip
            web, port, pids = start_web(env, tmp)
            processes.append(web)
            worker = start_worker(env, tmp)
            processes.append(worker)
            watched = {f"web worker {pid}": pid for pid in pids[:2]}
            sampler = Sampler(
                {**watched, "flowgate worker": worker.pid, "load generator": os.getpid()}
            )
            print(
                f"gunicorn -c python:app.serving wsgi:app on 127.0.0.1:{port}, workers {pids[:2]}; "
                f"flowgate worker {worker.pid}; {CONNECTIONS} keep-alive connections; "
                f"load average {os.getloadavg()[0]:.1f} at start; {os.cpu_count()} CPUs"
            )
            acked, errors, ratios, last_answer = asyncio.run(
                load(args, port, [every[:steady], every[steady:]], sampler,
                     tmp / "access.log", {**watched, "flowgate worker": worker.pid,
                                          "load generator": os.getpid()})
            )  # fmt: skip
            db_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
            took, left = drain(db_url, args.drain_limit, last_answer)
            print(f"backlog drained {took:.1f} s after the last answer ({left} left)")
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
            stop(worker)
            stop(web)
            received = receiver.stop()
            problems = consistency(db_url, acked, received)
            if errors:
                problems.append(f"{errors} requests failed")
            if left:
                problems.append("the backlog did not drain")
            if any(r > 2 for r in ratios):
                problems.append("the workers' CPU differ by more than a factor of 2")
    finally:
        for process in processes:
            stop(process)
        if receiver.proc.is_alive():
            receiver.stop()
        drop_schema(args.postgres, schema)
    print("\n" + ("FAIL: " + "; ".join(problems) if problems else "OK: all checks passed"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
