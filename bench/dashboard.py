"""Benchmark: dashboard pages' server render time on a large table of leads.

Loads N leads of `lead_capture` (default 100,000; 90 % valid, 8 % invalid, 2 % unrouted,
20,000 contacts, one endpoint with a delivery and attempts for every 100th lead) in bulk,
builds the real app on that database and times whole requests in-process through the WSGI
app (Flask, session check, core queries, Jinja) with a signed-in session, so the figure is
the server's time without any network. Pages: the leads list (first page, a filter, a page
deep in the table, a text search), one lead (fields with option titles, deliveries,
attempts, window), contacts. Baseline: `GET /api/v1/submissions?limit=50`, the admin API's
JSON of the same 50 leads the list shows. Each figure is the median of `--repeat` (>= 5)
interleaved rounds, with the min-max spread. Goal: leads page and lead page < 100 ms.

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/dashboard.py --rows 20000 --repeat 9

Runs on loopback and in a temporary directory (and PostgreSQL schema) removed afterwards.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.crypto.keys import generate_private_key, private_pem  # noqa: E402
from app.ids import new_id  # noqa: E402
from app.models import (  # noqa: E402
    Base,
    Contact,
    Delivery,
    DeliveryAttempt,
    Event,
    Submission,
    WebhookEndpoint,
)

TOKEN = "bench-token"
GOAL_MS = 100.0
SERVICES = ("consultation", "installation", "maintenance", "other")
NAMES = ("Ana Souza", "Bruno Lima", "Carla Dias", "Dora Reis", "Eduardo Alves", "Fernanda Rocha")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def leads(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        status = "unrouted" if i % 50 == 7 else "invalid" if i % 12 == 5 else "valid"
        name = NAMES[i % len(NAMES)]
        wa_id = f"55119{i % 20000:08d}"
        yield {
            "id": new_id(),
            "flow": "lead_capture",
            "wa_id": wa_id,
            "contact_name": name.split()[0],
            "flow_token": None,
            "source": "webhook",
            "status": status,
            "fields": {
                "name": f"{name} {i}",
                "phone": "+55 11 91234-5678",
                "email": f"lead{i}@example.com" if status == "valid" else "not-an-email",
                "service": SERVICES[i % 4],
                "preferred_date": "2026-12-01",
            },
            "errors": []
            if status == "valid"
            else [{"field": "email", "code": "pattern", "message": "not an email"}],
            "dedup_key": f"message:wamid.bench{i}",
            "message_id": f"wamid.bench{i}",
            "submitted_at": T0 + timedelta(seconds=30 * i),
            "received_at": T0 + timedelta(seconds=30 * i),
        }


def load(url: str, n: int) -> str:
    """Fill the database; returns the id of a lead in the middle that has deliveries."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    endpoint_id = new_id()
    middle = ""
    with engine.begin() as conn:
        conn.execute(
            insert(WebhookEndpoint),
            [
                {
                    "id": endpoint_id,
                    "url": "http://127.0.0.1:9/hook",
                    "events": ["flow.submitted"],
                    "enabled": True,
                    "secret": "whsec_YmVuY2g=",
                    "created_at": T0,
                    "updated_at": T0,
                }
            ],
        )
        batch: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        deliveries: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        for i, row in enumerate(leads(n)):
            batch.append(row)
            if i % 100 == 0:
                event_id, delivery_id = f"msg_{uuid.uuid4().hex}", new_id()
                at = row["submitted_at"]
                events.append(
                    {
                        "id": event_id,
                        "type": "flow.submitted",
                        "body": "{}",
                        "submission_id": row["id"],
                        "created_at": at,
                    }
                )
                deliveries.append(
                    {
                        "id": delivery_id,
                        "event_id": event_id,
                        "endpoint_id": endpoint_id,
                        "event_type": "flow.submitted",
                        "status": "delivered",
                        "attempts": 2,
                        "next_attempt_at": None,
                        "last_status_code": 200,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                attempts += [
                    {
                        "delivery_id": delivery_id,
                        "attempted_at": at,
                        "status_code": 500,
                        "duration_ms": 40,
                        "error": "HTTP 500",
                    },
                    {
                        "delivery_id": delivery_id,
                        "attempted_at": at,
                        "status_code": 200,
                        "duration_ms": 35,
                        "error": None,
                    },
                ]
                if n // 2 - 100 < i <= n // 2:
                    middle = row["id"]
            if len(batch) == 5000:
                conn.execute(insert(Submission), batch)
                batch = []
        if batch:
            conn.execute(insert(Submission), batch)
        conn.execute(insert(Event), events)
        conn.execute(insert(Delivery), deliveries)
        conn.execute(insert(DeliveryAttempt), attempts)
        now = datetime.now(UTC)
        contacts = [
            {
                "wa_id": f"55119{i:08d}",
                "profile_name": NAMES[i % len(NAMES)].split()[0],
                "last_inbound_at": now - timedelta(minutes=7 * i),
                "created_at": T0,
                "updated_at": T0,
            }
            for i in range(20000)
        ]
        conn.execute(insert(Contact), contacts)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return middle


def build_app(tmp: Path, url: str) -> Any:
    key = tmp / "key.pem"
    key.write_bytes(private_pem(generate_private_key(), None))
    config = Config.load(
        {
            "FLOWGATE_INSTANCE_PATH": str(tmp),
            "FLOWGATE_DATABASE_URL": url,
            "FLOWGATE_FLOWS_DIR": str(ROOT / "flows"),
            "FLOWGATE_SCHEMAS_DIR": str(ROOT / "schemas"),
            "FLOWGATE_PRIVATE_KEY_FILE": str(key),
            "FLOWGATE_APP_SECRET": "bench",
            "FLOWGATE_TOKEN_SECRET": "bench",
            "FLOWGATE_API_TOKENS": TOKEN,
        },
        environ={},
        dotenv_path=None,
    )
    return create_app(config)


def signed_in(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    answer = client.post("/dashboard/login", data={"token": TOKEN, "csrf_token": csrf})
    assert answer.status_code == 303, answer.status_code
    return client


def timed(client: Any, path: str, headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    response.get_data()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def bench(label: str, url: str, n: int, repeat: int) -> bool:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        lead_id = load(url, n)
        print(f"\n{label}: {n:,} leads loaded in {time.perf_counter() - started:.1f} s")
        app = build_app(tmp, url)
        client = signed_in(app)
        first = client.get("/dashboard/leads").get_data(as_text=True)
        deep = re.findall(r'href="(/dashboard/leads\?[^"]*cursor=[^"]+)"', first)
        api = {"Authorization": f"Bearer {TOKEN}"}
        pages: dict[str, tuple[str, dict[str, str] | None]] = {
            "baseline: API list of 50 (JSON)": ("/api/v1/submissions?limit=50", api),
            "leads page": ("/dashboard/leads", None),
            "leads page, status=invalid": ("/dashboard/leads?status=invalid", None),
            "leads page, next page": (deep[0].replace("&amp;", "&"), None),
            "lead page": (f"/dashboard/leads/{lead_id}", None),
            "contacts page": ("/dashboard/contacts", None),
            "leads page, text search (full scan)": ("/dashboard/leads?q=lead99999", None),
        }
        for path, headers in pages.values():  # warm-up: caches, pools, compiled templates
            timed(client, path, headers)
        runs: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(repeat):  # interleaved: each round visits every page once
            for name, (path, headers) in pages.items():
                runs[name].append(timed(client, path, headers))
        base = statistics.median(runs["baseline: API list of 50 (JSON)"])
        ok = True
        print(f"{'page':40} {'median ms':>10} {'min-max':>15} {'x baseline':>11}")
        for name, values in runs.items():
            med = statistics.median(values)
            spread = f"{min(values):.1f}-{max(values):.1f}"
            goal = name in ("leads page", "lead page")
            mark = "" if not goal else ("  ok" if med < GOAL_MS else "  OVER GOAL")
            ok &= not goal or med < GOAL_MS
            print(f"{name:40} {med:10.1f} {spread:>15} {med / base:10.2f}x{mark}")
        app.extensions["flowgate"].db.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (also benchmark it)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    repeat = max(5, args.repeat)
    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            ok &= bench("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args.rows, repeat)
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        base = make_url(args.postgres).set(drivername="postgresql+psycopg")
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = base.update_query_dict({"options": f"-csearch_path={schema}"})
            ok &= bench("PostgreSQL", url.render_as_string(hide_password=False), args.rows, repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print("\nGoal: leads page and lead page < 100 ms server time:", "met" if ok else "MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
