"""Benchmark: the Flow data endpoint under gunicorn, against the RSA-OAEP ceiling of its key.

One command (`.venv/bin/python bench/endpoint.py`) does everything, loopback only:
- prepares a throw-away instance (RSA-2048 key, secrets, SQLite database, the `appointment`
  flow plus a two-screen `bench_signup` flow whose data_exchange moves to the next screen);
- measures the single-core RSA-OAEP (SHA-256) decrypt rate of that key on the server's CPU,
  before and after each configuration's runs (the mean is that configuration's ceiling, so
  load from other processes affects both sides of the ratio alike): every request pays one
  RSA unwrap, so no endpoint can beat it;
- pre-encrypts pools of distinct requests (each with its own AES key and IV) for `ping` and
  for a `data_exchange` SIGNUP -> DONE (each with its own flow token: a new session row);
- for each server configuration (one sync worker, the simplest gunicorn set-up, as a baseline;
  the production configuration app/serving.py with one gthread worker), starts gunicorn pinned
  to CPU 0 (`taskset`), and from this process pinned to CPU 1 runs:
  * peak: closed loop over keep-alive connections, requests per second, p50/p99;
  * 80 % of peak: open loop paced at 0.8 x peak (latency from the scheduled send time);
  * 20 ms client round trip: each request sends its headers with `Expect: 100-continue`;
    the worker answers `100 Continue` and then waits for the body, which the load sends one
    round trip (20 ms) later. This is the way a far client holds a worker: an exchange the
    worker must wait through once it has started on the connection (the TLS handshake when
    gunicorn terminates HTTPS is the same shape). A body that is merely late is absorbed by
    the accept backlog and does not show the effect;
  and decrypts every answer with the request's key (a non-200 or undecryptable answer counts
  as an error).
Figures go to stdout as a table with the ratios to the RSA ceiling and to the loopback peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.crypto.envelope import ResponseCipher, encrypt_request  # noqa: E402
from app.crypto.keys import generate_private_key, private_pem  # noqa: E402
from app.crypto.signatures import hub_signature  # noqa: E402
from app.crypto.tokens import issue_token  # noqa: E402
from app.db import Database  # noqa: E402
from app.models import Base  # noqa: E402

APP_SECRET = "bench-app-secret-0123456789abcdef"
TOKEN_SECRET = "bench-token-secret"
SERVER_CPU, LOAD_CPU = 0, 1
BENCH_FLOW = {
    "version": "7.3",
    "data_api_version": "3.0",
    "routing_model": {"SIGNUP": ["DONE"], "DONE": []},
    "screens": [
        {
            "id": "SIGNUP",
            "title": "Sign up",
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextInput", "name": "name", "label": "Name", "required": True},
                    {
                        "type": "TextInput",
                        "name": "email",
                        "label": "Email",
                        "input-type": "email",
                        "required": True,
                    },
                    {
                        "type": "Footer",
                        "label": "Next",
                        "on-click-action": {
                            "name": "data_exchange",
                            "payload": {"name": "${form.name}", "email": "${form.email}"},
                        },
                    },
                ],
            },
        },
        {
            "id": "DONE",
            "title": "Thanks",
            "terminal": True,
            "success": True,
            "data": {"name": {"type": "string", "__example__": "Ada"}},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextBody", "text": "${data.name}"},
                    {
                        "type": "Footer",
                        "label": "Confirm",
                        "on-click-action": {
                            "name": "data_exchange",
                            "payload": {"name": "${data.name}"},
                        },
                    },
                ],
            },
        },
    ],
}
BENCH_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"},
    },
    "required": ["name", "email"],
    "additionalProperties": False,
}


@dataclass
class Prepared:
    head: bytes
    body: bytes
    cipher: ResponseCipher
    expect: str  # "ping" | "DONE"


@dataclass
class Result:
    name: str
    count: int = 0
    errors: int = 0
    elapsed: float = 0.0
    load_cpu: float = 0.0  # CPU seconds this (load) process used during the run
    server_cpu: float = 0.0  # CPU seconds the gunicorn worker(s) used during the run
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- setup -----------------------------------------------------------------------------------


def prepare_instance(tmp: Path) -> tuple[dict[str, str], Any]:
    key = generate_private_key()
    (tmp / "flow_private.pem").write_bytes(private_pem(key, None))
    flows, schemas = tmp / "flows", tmp / "schemas"
    flows.mkdir()
    schemas.mkdir()
    for name in ("appointment.json", "appointment.py"):
        shutil.copy(ROOT / "flows" / name, flows / name)
    shutil.copy(ROOT / "schemas" / "appointment.json", schemas / "appointment.json")
    (flows / "bench_signup.json").write_text(json.dumps(BENCH_FLOW))
    (schemas / "bench_signup.json").write_text(json.dumps(BENCH_SCHEMA))
    url = f"sqlite:///{tmp / 'flowgate.sqlite3'}"
    database = Database(url)
    Base.metadata.create_all(database.engine)
    database.dispose()
    env = {
        **os.environ,
        "FLOWGATE_ENV": "production",
        "FLOWGATE_INSTANCE_PATH": str(tmp),
        "FLOWGATE_DATABASE_URL": url,
        "FLOWGATE_FLOWS_DIR": str(flows),
        "FLOWGATE_SCHEMAS_DIR": str(schemas),
        "FLOWGATE_PRIVATE_KEY_FILE": str(tmp / "flow_private.pem"),
        "FLOWGATE_APP_SECRET": APP_SECRET,
        "FLOWGATE_TOKEN_SECRET": TOKEN_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    return env, key


RSA_PROBE = """
import os, sys, time
from cryptography.hazmat.primitives import serialization
sys.path.insert(0, sys.argv[2])
from app.crypto.envelope import OAEP
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
wrapped = [key.public_key().encrypt(os.urandom(16), OAEP) for _ in range(64)]
count, started, cpu = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - started < float(sys.argv[3]):
    for blob in wrapped:
        key.decrypt(blob, OAEP)
    count += len(wrapped)
print(count / (time.perf_counter() - started), (time.process_time() - cpu) / count)
"""


def rsa_ceiling(key_file: Path, seconds: float = 1.5) -> float:
    """RSA-OAEP SHA-256 decrypts per second with this key, one process on the server's CPU."""
    return rsa_probe(key_file, seconds)[0]


def rsa_probe(key_file: Path, seconds: float = 1.5) -> tuple[float, float]:
    """(decrypts per wall second, CPU seconds per decrypt) on the server's CPU."""
    out = subprocess.run(
        ["taskset", "-c", str(SERVER_CPU), sys.executable, "-c", RSA_PROBE,
         str(key_file), str(ROOT), str(seconds)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rate, cpu = out.stdout.split()
    return float(rate), float(cpu)


def build_pool(key: Any, kind: str, size: int, port: int) -> list[Prepared]:
    """Requests of one kind: ping; data (bench_signup's SIGNUP -> DONE); init and exchange on
    the real `appointment` flow (INIT; a department chosen on APPOINTMENT), each with its own
    flow token, i.e. its own session row read and written."""
    flow = "bench_signup" if kind == "data" else "appointment"
    path = f"/flows/{flow}/endpoint"
    pool = []
    for i in range(size):
        token = issue_token(TOKEN_SECRET, flow=flow, wa_id=f"4477009{i:05d}").flow_token
        payload: dict[str, Any] = {"version": "3.0", "action": "ping"}
        expect = {"ping": "ping", "data": "DONE"}.get(kind, "APPOINTMENT")
        if kind == "data":
            payload = {
                "version": "3.0",
                "action": "data_exchange",
                "screen": "SIGNUP",
                "data": {"name": f"User {i}", "email": f"user{i}@example.com"},
                "flow_token": token,
            }
        elif kind == "init":
            payload = {"version": "3.0", "action": "INIT", "flow_token": token}
        elif kind == "exchange":
            payload = {
                "version": "3.0",
                "action": "data_exchange",
                "screen": "APPOINTMENT",
                "data": {"department": "cardiology"},
                "flow_token": token,
            }
        envelope, cipher = encrypt_request(key.public_key(), payload)
        body = json.dumps(envelope.to_dict()).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\n"
            f"X-Hub-Signature-256: {hub_signature(APP_SECRET, body)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        pool.append(Prepared(head, body, cipher, expect))
    return pool


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str], port: int, args: list[str], cpus: str = str(SERVER_CPU)
) -> subprocess.Popen[bytes]:
    command = [
        "taskset", "-c", cpus,
        str(ROOT / ".venv/bin/gunicorn"), *args,
        "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning",
        "wsgi:app",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:  # the master listens before the worker has booted: ask /healthz
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("gunicorn did not become ready")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the load (asyncio, raw HTTP/1.1 over keep-alive connections) ----------------------------


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, req: Prepared, rtt: float) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.transport.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
        assert self.reader is not None
        if rtt:
            # Expect: 100-continue: the worker answers "100 Continue" once it reads the headers
            # and then waits for the body, which arrives one round trip later.
            self.writer.write(req.head[:-2] + b"Expect: 100-continue\r\n\r\n")
            await self.writer.drain()
            interim = await self.reader.readuntil(b"\r\n\r\n")
            if b" 100 " not in interim.split(b"\r\n", 1)[0]:
                raise ValueError(f"expected 100 Continue, got {interim[:40]!r}")
            await asyncio.sleep(rtt)
            self.writer.write(req.body)
        else:
            self.writer.write(req.head + req.body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = self.reader = None
        return status, body


def check(req: Prepared, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    try:
        answer = req.cipher.decrypt(body)
    except Exception:
        return False
    if req.expect == "ping":
        return bool(answer == {"data": {"status": "active"}})
    data = answer.get("data")
    if isinstance(data, dict) and "error_message" in data:
        return False  # an error screen is not the measured path
    return bool(answer.get("screen") == req.expect)


async def closed_loop(
    name: str, pool: list[Prepared], port: int, conns: int, seconds: float, rtt: float = 0.0
) -> Result:
    result = Result(name)
    it = iter(pool)
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        conn = Conn(port)
        while time.perf_counter() < stop:
            req = next(it, None)
            if req is None:
                return
            started = time.perf_counter()
            try:
                status, body = await conn.request(req, rtt)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                conn = Conn(port)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.count += 1
            result.errors += not check(req, status, body)
        if conn.writer is not None:
            conn.writer.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(conns)))
    result.elapsed = time.perf_counter() - started
    result.load_cpu = time.process_time() - cpu
    return result


async def paced(name: str, pool: list[Prepared], port: int, rate: float, seconds: float) -> Result:
    """Open loop at `rate` requests/s; latency counts from the scheduled send time."""
    result = Result(name)
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(Conn(port))
    total = min(len(pool), int(rate * seconds))
    begin = time.perf_counter() + 0.05

    async def one(scheduled: float, req: Prepared) -> None:
        conn = await idle.get()
        try:
            status, body = await conn.request(req, 0.0)
            result.errors += not check(req, status, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            conn = Conn(port)
        result.latencies.append(time.perf_counter() - scheduled)
        result.count += 1
        idle.put_nowait(conn)

    tasks = []
    cpu = time.process_time()
    for i, req in enumerate(pool[:total]):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(scheduled, req)))
    await asyncio.gather(*tasks)
    result.load_cpu = time.process_time() - cpu
    result.elapsed = time.perf_counter() - begin
    return result


# --- main ------------------------------------------------------------------------------------


def run_config(
    label: str, args: list[str], env: dict[str, str], key: Any, opts: argparse.Namespace
) -> tuple[float, list[Result]]:
    """(RSA ceiling around these runs, the runs) for one server configuration."""
    key_file = Path(env["FLOWGATE_PRIVATE_KEY_FILE"])
    before, rsa_cpu = rsa_probe(key_file)
    RSA_CPU[label] = rsa_cpu
    port = free_port()
    size = int(opts.pool)
    kinds = ("ping", *(k for k in opts.kinds.split(",") if k != "ping"))
    pools = {kind: build_pool(key, kind, size, port) for kind in kinds}
    proc = start_server(env, port, args)
    results: list[Result] = []
    try:
        loop = asyncio.new_event_loop()

        def run(coro: Any) -> Result:
            pids = worker_pids(proc.pid)
            before = sum(cpu_seconds(pid) for pid in pids)
            result = loop.run_until_complete(coro)
            result.server_cpu = sum(cpu_seconds(pid) for pid in pids) - before
            return result

        run(closed_loop("warm-up", pools["ping"][:300], port, 4, 1.0))
        offset = {kind: 300 if kind == "ping" else 0 for kind in kinds}

        def take(kind: str, n: int) -> list[Prepared]:
            start = offset[kind]
            offset[kind] = start + n
            chunk = pools[kind][start : start + n]
            return chunk if len(chunk) == n else pools[kind][:n]  # wrap: replays, still valid

        for kind in kinds:
            peak = run(closed_loop(f"{label} {kind} peak", take(kind, size // 3), port,
                                   opts.connections, opts.seconds))  # fmt: skip
            results.append(peak)
            if label != "sync":
                rate = 0.8 * peak.rps
                budget = max(1, int(rate * opts.seconds))
                results.append(run(paced(f"{label} {kind} @80%", take(kind, budget), port, rate,
                                         opts.seconds)))  # fmt: skip
            rtt = opts.rtt_ms / 1000
            results.append(run(closed_loop(f"{label} {kind} rtt{opts.rtt_ms:g}ms",
                                           take(kind, size // 3), port, opts.rtt_connections,
                                           opts.seconds, rtt)))  # fmt: skip
        loop.close()
    finally:
        stop_server(proc)
    after, rsa_cpu = rsa_probe(key_file)
    RSA_CPU[label] = (RSA_CPU[label] + rsa_cpu) / 2
    return (before + after) / 2, results


RSA_CPU: dict[str, float] = {}  # CPU seconds per RSA unwrap around each configuration


# --- --metrics-cost and --workers 2 (docs/operations.md, docs/endpoint.md) -------------------


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes: the children of the master."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_once(
    env: dict[str, str],
    args: list[str],
    key: Any,
    kind: str,
    opts: argparse.Namespace,
    cpus: str,
) -> tuple[float, int, list[float], float]:
    """(req/s, errors, CPU % of each worker, worker CPU microseconds per request) of one
    closed-loop peak run on a fresh server. CPU per request barely moves with the load other
    processes put on the machine, where req/s does."""
    port = free_port()
    pool = build_pool(key, kind, opts.pool, port)
    proc = start_server(env, port, args, cpus)
    try:
        time.sleep(1.0)  # every worker has loaded the app (the first /healthz proves one)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(closed_loop("warm-up", pool[:200], port, opts.connections, 0.5))
        pids = worker_pids(proc.pid)
        before = {pid: cpu_seconds(pid) for pid in pids}
        result = loop.run_until_complete(
            closed_loop(kind, pool[200:], port, opts.connections, opts.seconds)
        )
        used = [cpu_seconds(pid) - before[pid] for pid in pids]
        loop.close()
    finally:
        stop_server(proc)
    cpu = sorted((100 * u / result.elapsed for u in used), reverse=True)
    return result.rps, result.errors, cpu, 1e6 * sum(used) / max(1, result.count)


def median_spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[len(ordered) // 2]:,.0f} ({ordered[0]:,.0f}-{ordered[-1]:,.0f})"


OBSERVE_PROBE = """
import os, sys, tempfile, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
sys.path.insert(0, sys.argv[1])
from app.endpoint.service import Reply
from app.ops.observe import EndpointObserver
from app.ops.rollup import Rollup
observer = EndpointObserver(rollup=Rollup(db=None))
reply = Reply(200, "x", action="data_exchange")
for _ in range(1000):
    observer.observe("appointment", reply, 200, 0.004)
n, started = 200_000, time.perf_counter()
for _ in range(n):
    observer.observe("appointment", reply, 200, 0.004)
print((time.perf_counter() - started) / n * 1e6)
"""


def observe_cost() -> float:
    """Microseconds one request's recording takes (multiprocess mode, as under gunicorn)."""
    out = subprocess.run(
        ["taskset", "-c", str(SERVER_CPU), sys.executable, "-c", OBSERVE_PROBE, str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rate, cpu = out.stdout.split()
    return float(rate), float(cpu)


def metrics_cost(env: dict[str, str], key: Any, opts: argparse.Namespace) -> bool:
    """Production settings, one worker, with and without per-request recording, interleaved."""
    args = ["-c", "python:app.serving", "--workers", "1"]
    variants = {"metrics on": {**env, "FLOWGATE_METRICS_ENABLED": "1"},
                "metrics off": {**env, "FLOWGATE_METRICS_ENABLED": "0"}}  # fmt: skip
    costs = sorted(observe_cost() for _ in range(opts.repeat))
    print(f"recording one request (Prometheus + health rollup, multiprocess mode): median "
          f"{costs[len(costs) // 2]:.1f} us ({costs[0]:.1f}-{costs[-1]:.1f})")  # fmt: skip
    ok = True
    for kind in ("ping", "data"):
        rates: dict[str, list[float]] = {name: [] for name in variants}
        per_request: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(opts.repeat):
            for name, variant_env in variants.items():
                rps, errors, _, us = peak_once(variant_env, args, key, kind, opts, str(SERVER_CPU))
                ok = ok and errors == 0
                rates[name].append(rps)
                per_request[name].append(us)
        on, off = (sorted(rates[n])[len(rates[n]) // 2] for n in variants)
        cpu_on, cpu_off = (sorted(per_request[n])[len(per_request[n]) // 2] for n in variants)
        print(f"{kind:<5} req/s: metrics on {median_spread(rates['metrics on'])}, "
              f"off {median_spread(rates['metrics off'])} (cost {100 * (1 - on / off):+.1f} %); "
              f"worker CPU per request: on {median_spread(per_request['metrics on'])} us, "
              f"off {median_spread(per_request['metrics off'])} us: metrics cost "
              f"{100 * (1 - cpu_off / cpu_on):.1f} % of CPU-bound throughput")  # fmt: skip
    return ok


def workers_compare(env: dict[str, str], key: Any, opts: argparse.Namespace) -> bool:
    """Production settings with 1 and with `--workers` processes, interleaved."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > opts.workers:
        server_cpus = ",".join(str(c) for c in cpus[: opts.workers])
        os.sched_setaffinity(0, {cpus[opts.workers]})
        note = f"server on CPUs {server_cpus}, load on CPU {cpus[opts.workers]}"
    else:
        server_cpus = ",".join(str(c) for c in cpus)
        os.sched_setaffinity(0, set(cpus))
        note = f"only {len(cpus)} CPUs: server and load share CPUs {server_cpus} (not pinned)"
    print(note)
    ok = True
    for kind in ("ping", "data"):
        rates: dict[int, list[float]] = {1: [], opts.workers: []}
        shares: list[list[float]] = []
        for _ in range(opts.repeat):
            for n in (1, opts.workers):
                args = ["-c", "python:app.serving", "--workers", str(n)]
                rps, errors, cpu, _ = peak_once(env, args, key, kind, opts, server_cpus)
                ok = ok and errors == 0
                rates[n].append(rps)
                if n > 1:
                    shares.append(cpu)
        one = sorted(rates[1])[len(rates[1]) // 2]
        many = sorted(rates[opts.workers])[len(rates[opts.workers]) // 2]
        per_worker = "; ".join("/".join(f"{c:.0f}%" for c in run) for run in shares)
        print(f"{kind:<5} 1 worker {median_spread(rates[1])} req/s, {opts.workers} workers "
              f"{median_spread(rates[opts.workers])} req/s: {many / one:.2f}x; "
              f"worker CPU per run: {per_worker}")  # fmt: skip
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each run")
    parser.add_argument("--pool", type=int, default=9000, help="pre-encrypted requests per kind")
    parser.add_argument("--connections", type=int, default=8, help="peak-run connections")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="simulated client RTT")
    parser.add_argument("--rtt-connections", type=int, default=64)
    parser.add_argument(
        "--metrics-cost",
        action="store_true",
        help="only: production settings with and without metrics recording",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="only: production settings with 1 and with N workers (CPU per worker)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="interleaved runs per variant")
    parser.add_argument(
        "--kinds",
        default="ping,data",
        help="request kinds: ping, data (bench_signup), init and exchange (appointment)",
    )
    parser.add_argument(
        "--configs",
        default="sync,production",
        help="server configurations to run: sync, production (comma-separated)",
    )
    opts = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("needs two CPUs: gunicorn on one, the load on the other")
    if opts.metrics_cost or opts.workers:
        with tempfile.TemporaryDirectory(prefix="flowgate-bench-") as tmp:
            env, key = prepare_instance(Path(tmp))
            if opts.metrics_cost:
                os.sched_setaffinity(0, {LOAD_CPU})
                ok = metrics_cost(env, key, opts)
            else:
                ok = workers_compare(env, key, opts)
        if not ok:
            sys.exit("some answers were not 200 or did not decrypt")
        return
    os.sched_setaffinity(0, {LOAD_CPU})
    with tempfile.TemporaryDirectory(prefix="flowgate-bench-") as tmp:
        env, key = prepare_instance(Path(tmp))
        configs = [
            ("sync", ["--worker-class", "sync", "--workers", "1"]),
            ("production", ["-c", "python:app.serving", "--workers", "1"]),
        ]
        configs = [c for c in configs if c[0] in opts.configs.split(",")]
        results: list[Result] = []
        ceilings: dict[str, float] = {}
        for label, args in configs:
            ceilings[label], runs = run_config(label, args, env, key, opts)
            results += runs
    for label, ceiling in ceilings.items():
        print(
            f"RSA-2048 OAEP-SHA256 decrypts/s on the server's CPU around '{label}': {ceiling:,.0f}"
        )
    peaks = {r.name.rsplit(" ", 1)[0]: r.rps for r in results if r.name.endswith(" peak")}
    for label, cpu in RSA_CPU.items():
        print(f"CPU per RSA unwrap around '{label}': {cpu * 1e6:.0f} us")
    print(
        f"\n{'run':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'load%':>7}"
        f"{'srv us/req':>11}  ratio"
    )
    for r in results:
        base = r.name.rsplit(" ", 1)[0]
        per = 1e6 * r.server_cpu / r.count if r.count else float("nan")
        if r.name.endswith(" peak"):
            rsa_us = 1e6 * RSA_CPU[r.name.split()[0]]
            ratio = (
                f"{r.rps / ceilings[r.name.split()[0]]:.2f} of RSA ceiling; "
                f"by CPU {rsa_us / per:.2f}"
            )
        elif "rtt" in r.name:
            ratio = f"{r.rps / peaks[base]:.2f} of loopback peak"
        else:
            ratio = f"{r.rps / peaks[base]:.2f} of peak (target rate 0.80)"
        load = 100 * r.load_cpu / r.elapsed if r.elapsed else 0.0
        print(
            f"{r.name:<34}{r.rps:>9,.0f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}{r.errors:>8}"
            f"{load:>6.0f}%{per:>11.0f}  {ratio}"
        )
    if any(r.errors for r in results):
        sys.exit("some answers were not 200 or did not decrypt")


if __name__ == "__main__":
    main()
