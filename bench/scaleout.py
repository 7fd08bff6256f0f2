"""Benchmark: two app servers and two delivery workers over one PostgreSQL, checked end to end.

Set-up (docs/scaling.md): two gunicorn instances (`gunicorn -c python:app.serving wsgi:app`,
each on its own ephemeral loopback port with its own instance folder, the same key, secrets
and database: a schema created here and dropped at the end) and two `flowgate worker`
processes delivering `flow.submitted` to two webhook endpoints on a loopback receiver.

Load: signed Meta notifications to `POST /webhooks/whatsapp`, two thirds nfm_reply (a lead
each, docs/protocol.md §9.1) and one third text messages, from a set of contacts with
out-of-order timestamps. Every notification is sent twice, as Meta re-delivers one it thinks
was not acknowledged (docs/webhooks.md): the original to one instance, the re-delivery to
the OTHER one, all shuffled so that both copies are often in flight at once.

Throughput: rounds alternate between the load split over both instances and the same kind of
load on instance A alone (each round fresh notifications), median of the rounds with the
range. After the rounds the workers drain and the script checks, for everything sent:
zero leads lost or duplicated (one submission per nfm_reply message id), every event
received exactly once per endpoint by webhook-id (verified with the standardwebhooks package),
and every contact's `last_inbound_at` equal to the newest message timestamp sent for it.

    .venv/bin/python bench/scaleout.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Loopback only. Exits 1 when a consistency check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from standardwebhooks import Webhook  # noqa: E402

from app.crypto.keys import generate_private_key, private_pem  # noqa: E402
from app.crypto.signatures import hub_signature  # noqa: E402
from app.crypto.tokens import issue_token  # noqa: E402
from app.db import Database  # noqa: E402
from app.delivery.ssrf import parse_networks  # noqa: E402
from app.delivery.subscriptions import Guard, create_endpoint  # noqa: E402
from app.endpoint.emulator import nfm_reply_notification  # noqa: E402
from app.models import Base, Contact, Delivery, Event, Submission  # noqa: E402
from bench.scaleout_probes import backend_states, busy, log_errors, repeated_attempts, snapshot  # noqa: E402
from tests.delivery.processes import start_worker  # noqa: E402
from tests.delivery.receiver import Receiver  # noqa: E402
from tests.ops.server import Server, gunicorn  # noqa: E402

APP_SECRET, TOKEN_SECRET = "scaleout-app-secret", "scaleout-token-secret"
T0 = 1_790_000_000  # a Meta-style Unix timestamp (seconds)
LEAD = {"name": "Ana Souza", "phone": "+55 11 91234-5678", "email": "ana@example.com",
        "service": "installation", "preferred_date": "2026-12-01"}  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """One notification as Meta would post it, with what it must leave behind."""

    body: bytes
    signature: str
    wa_id: str
    message_id: str
    timestamp: int
    lead: bool


@dataclass
class Cluster:
    """The running parts: app servers, the shared database and the webhook receiver."""

    servers: list[Server]
    url: str
    receiver: Receiver
    secrets: dict[str, str]  # receiver path -> signing secret
    workers: list[subprocess.Popen[bytes]]


def notifications(count: int, contacts: int, tag: str, seed: int) -> list[Sent]:
    """`count` distinct signed notifications (2 of 3 leads), built before any timing."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        wa_id = f"55119{i % contacts:08d}"
        message_id, stamp = f"wamid.{tag}.{i}", T0 + rng.randrange(86_400)
        lead = i % 3 != 2
        if lead:
            token = issue_token(TOKEN_SECRET, flow="lead_capture", wa_id=wa_id).flow_token
            payload = nfm_reply_notification({**LEAD, "flow_token": token}, wa_id=wa_id,
                                             message_id=message_id, contact_name="Ana",
                                             timestamp=stamp)  # fmt: skip
        else:
            message = {"from": wa_id, "id": message_id, "timestamp": str(stamp), "type": "text",
                       "text": {"body": "hi"}}  # fmt: skip
            value = {"messaging_product": "whatsapp",
                     "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
                     "messages": [message]}  # fmt: skip
            change = {"field": "messages", "value": value}
            payload = {"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [change]}]}  # fmt: skip
        body = json.dumps(payload).encode()
        out.append(Sent(body, hub_signature(APP_SECRET, body), wa_id, message_id, stamp, lead))
    return out


def post_all(bases: list[str], sent: list[Sent], concurrency: int, seed: int) -> dict:
    """Post each notification to bases[i % n] and its re-delivery to the next base, shuffled."""
    plan = [(bases[(i + d) % len(bases)], s) for i, s in enumerate(sent) for d in (0, 1)]
    random.Random(seed).shuffle(plan)
    chunks = [plan[i::concurrency] for i in range(concurrency)]

    def run(chunk: list[tuple[str, Sent]]) -> list[int]:
        with httpx.Client(timeout=60) as client:
            return [
                client.post(f"{base}/webhooks/whatsapp", content=s.body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": s.signature,
                }).status_code
                for base, s in chunk
            ]  # fmt: skip

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = [code for codes in pool.map(run, chunks) for code in codes]
    seconds = time.perf_counter() - started
    return {"requests": len(statuses), "seconds": seconds, "rate": len(statuses) / seconds,
            "errors": sum(code != 200 for code in statuses)}  # fmt: skip


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A fresh schema on the server with every table, its URL; dropped afterwards."""
    schema = f"scaleout_{uuid.uuid4().hex[:12]}"
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # application_name marks this run's connections, to find their server processes.
    url = server.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    url_text = url.render_as_string(hide_password=False)
    try:
        db = Database(url_text)
        Base.metadata.create_all(db.engine)
        db.dispose()
        yield url_text
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def cluster(url: str, tmp: Path, web_workers: int = 1, workers: int = 2) -> Iterator[Cluster]:
    """Two app instances (own instance folders, same key and secrets), `workers` delivery
    workers and a receiver with two subscribed endpoints, all on loopback."""
    pem = private_pem(generate_private_key(), None)
    common = {
        "FLOWGATE_ENV": "production", "FLOWGATE_DATABASE_URL": url,
        "FLOWGATE_FLOWS_DIR": str(ROOT / "flows"), "FLOWGATE_SCHEMAS_DIR": str(ROOT / "schemas"),
        "FLOWGATE_APP_SECRET": APP_SECRET, "FLOWGATE_TOKEN_SECRET": TOKEN_SECRET,
        "FLOWGATE_VERIFY_TOKEN": "scaleout", "FLOWGATE_API_TOKENS": "scaleout-api-token",
        "FLOWGATE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
        "FLOWGATE_WEBHOOK_RETRY_SCHEDULE": "0,0.5,1",
    }  # fmt: skip
    with ExitStack() as stack:
        receiver = Receiver()
        stack.callback(receiver.close)
        db = Database(url)
        secrets = {}
        with db.transaction() as session:
            for path in ("/a", "/b"):
                endpoint = create_endpoint(
                    session, f"http://127.0.0.1:{receiver.port}{path}", ["flow.submitted"],
                    guard=Guard(allow=parse_networks(["127.0.0.1/32"])),
                )  # fmt: skip
                secrets[path] = endpoint.secret
        db.dispose()
        servers = []
        for name in ("a", "b"):
            folder = tmp / f"instance-{name}"
            folder.mkdir(parents=True)
            (folder / "flow_private.pem").write_bytes(pem)
            (folder / "flow_private.pem").chmod(0o600)
            settings = {**common, "FLOWGATE_INSTANCE_PATH": str(folder),
                        "FLOWGATE_PRIVATE_KEY_FILE": str(folder / "flow_private.pem")}  # fmt: skip
            servers.append(stack.enter_context(gunicorn(settings, web_workers, folder)))
        started = []
        for n in range(workers):
            process = start_worker(common, tmp, "--poll", "0.2", log=tmp / f"worker-{n}.log")
            stack.callback(_stop, process)
            started.append(process)
        yield Cluster(servers, url, receiver, secrets, started)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(20)


def drain(c: Cluster, timeout: float) -> None:
    """Wait until no delivery is pending (or `timeout` seconds pass)."""
    db = Database(c.url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with db.session() as s:
                pending = s.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
                )
            if not pending:
                return
            time.sleep(0.2)
    finally:
        db.dispose()


def consistency(c: Cluster, sent: list[Sent]) -> dict[str, int]:
    """Counts that must all be 0: lost/duplicated leads, events, deliveries, windows."""
    db = Database(c.url)
    try:
        with db.session() as s:
            per_message = Counter(s.scalars(select(Submission.message_id)).all())
            event_ids = set(s.scalars(select(Event.id).where(Event.type == "flow.submitted")))
            contacts = {w: t for w, t in s.execute(select(Contact.wa_id, Contact.last_inbound_at))}
            undelivered = s.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status != "delivered")
            )
    finally:
        db.dispose()
    leads = {x.message_id for x in sent if x.lead}
    received: Counter[tuple[str, str]] = Counter()
    bad_signatures = 0
    for request in list(c.receiver.requests):
        try:
            Webhook(c.secrets[request.path]).verify(request.body, request.headers)
        except Exception:
            bad_signatures += 1
            continue
        received[(request.path, request.headers["webhook-id"])] += 1
    newest: dict[str, int] = {}
    for x in sent:
        newest[x.wa_id] = max(newest.get(x.wa_id, 0), x.timestamp)
    expected = {(p, e) for p in c.secrets for e in event_ids}
    return {
        "leads lost": len(leads - set(per_message)),
        "leads duplicated": sum(n - 1 for m, n in per_message.items() if m in leads and n > 1),
        "unexpected leads": len(set(per_message) - leads),
        "events != leads": abs(len(event_ids) - len(leads)),
        "events not received": len(expected - set(received)),
        "events received twice": sum(n - 1 for n in received.values() if n > 1),
        "unknown webhook-ids": len(set(received) - expected),
        "bad signatures": bad_signatures,
        "deliveries not delivered": undelivered or 0,
        "windows wrong": sum(
            contacts.get(w) != datetime.fromtimestamp(t, UTC) for w, t in newest.items()
        ),
    }


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} [{min(values):.0f}-{max(values):.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/test")  # fmt: skip
    parser.add_argument(
        "--notifications", type=int, default=600, help="per round (each sent twice)"
    )
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5, help="per configuration, interleaved")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument(
        "--web-workers", type=int, default=1, help="gunicorn processes per instance"
    )
    args = parser.parse_args()

    all_sent: list[Sent] = []
    rates: dict[str, list[float]] = {"1 instance": [], "2 instances": []}
    cores: dict[str, Counter[str]] = {config: Counter() for config in rates}
    wall: Counter[str] = Counter()
    states: dict[str, Counter[str]] = {config: Counter() for config in rates}
    errors = 0
    tmp = Path(tempfile.mkdtemp(prefix="flowgate-scaleout-"))
    try:
        with postgres_schema(args.postgres) as url, cluster(url, tmp, args.web_workers) as c:
            bases = [f"http://127.0.0.1:{s.port}" for s in c.servers]
            post_all(bases, notifications(60, args.contacts, "warm", 0), args.concurrency, 0)
            all_sent += notifications(60, args.contacts, "warm", 0)
            for r in range(args.rounds):
                order = ["1 instance", "2 instances"][:: 1 if r % 2 == 0 else -1]
                for config in order:
                    tag = f"r{r}{config[0]}"
                    sent = notifications(args.notifications, args.contacts, tag, r + 1)
                    targets = bases[:1] if config == "1 instance" else bases
                    before = snapshot(c)
                    with backend_states(c, states[config]):
                        result = post_all(targets, sent, args.concurrency, r)
                    cores[config].update(busy(before, snapshot(c)))
                    wall[config] += result["seconds"]
                    rates[config].append(result["rate"])
                    errors += result["errors"]
                    all_sent += sent
                    print(f"round {r} {config}: {result['rate']:.0f} posts/s", file=sys.stderr)
            drain(c, 120)
            checks = consistency(c, all_sent)
            repeats = repeated_attempts(c)
        logged = log_errors(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = [b / a for a, b in zip(rates["1 instance"], rates["2 instances"], strict=True)]
    head = f"posts/s (originals + re-deliveries), median [range] of {args.rounds}"
    print(f"| configuration | {head} |")
    print("|---|---|")
    for config, values in rates.items():
        print(f"| {config} | {spread(values)} |")
    print(f"| 2 / 1 | {statistics.median(ratio):.2f} [{min(ratio):.2f}-{max(ratio):.2f}] |")
    print("\nCores in use, and threads runnable but waiting for a core, during the rounds")
    print("(seconds / wall seconds; the machine has 2 cores):")
    print("| part | 1 instance: running | waiting | 2 instances: running | waiting |")
    print("|---|---|---|---|---|")
    for part in [p for p in cores["2 instances"] if not p.endswith(": waiting")]:
        cells = [
            f"{cores[config][key] / wall[config]:.2f}"
            for config in rates
            for key in (part, f"{part}: waiting")
        ]
        print(f"| {part} | {' | '.join(cells)} |")
    print("\nPostgreSQL backends of this run by state, mean count per 20 ms sample:")
    print("| state | 1 instance | 2 instances |\n|---|---|---|")
    for state in sorted((set(states["1 instance"]) | set(states["2 instances"])) - {"samples"}):
        mean = [states[config][state] / max(1, states[config]["samples"]) for config in rates]
        if max(mean) < 0.01:
            continue
        print(f"| {state} | {mean[0]:.2f} | {mean[1]:.2f} |")
    print(f"\nnon-200 answers: {errors}; sent {len(all_sent)} notifications twice each")
    print(", ".join(f"{k}: {v}" for k, v in checks.items()))
    for line in repeats:
        print(f"repeated attempt: {line}")
    print(f"error lines logged by app servers and workers: {len(logged)}")
    for line in logged[:20]:
        print(f"  {line}")
    if errors or any(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
