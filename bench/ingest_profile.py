"""Profile: the Meta webhook's work per notification, in-process (Flask test client).

Same set-up and bodies as bench/ingest.py (one subscribed endpoint, signed nfm_reply
notifications for lead_capture with real flow tokens), posted through the real app without
gunicorn; prints CPU per notification for the webhook and for the one-row-insert baseline,
then the cProfile of the webhook run (top entries by cumulative and by own time).

    .venv/bin/python bench/ingest_profile.py --requests 1000
    .venv/bin/python bench/ingest_profile.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="CPU figures only")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="count statements, transactions and savepoints per request (no timing)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = f"sqlite:///{instance / 'bench.db'}"
        schema = None
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = (
                make_url(args.postgres)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        try:
            os.environ.update(ingest.prepare(url, instance))
            app = ingest.bench_app()
            client = app.test_client()
            hooks = ingest.notifications(args.requests + 50, "p")
            base = ingest.notifications(args.requests, "b")
            for body, sig in hooks[:50]:  # warm-up
                client.post(
                    "/webhooks/whatsapp",
                    data=body,
                    headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"},
                )

            def run(path: str, bodies: list) -> float:
                start = time.process_time()
                for body, sig in bodies:
                    r = client.post(
                        path,
                        data=body,
                        headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"},
                    )
                    assert r.status_code == 200, r.status_code
                return (time.process_time() - start) / len(bodies) * 1e6

            if args.statements:
                print_counts(app, lambda bodies: run("/bench/baseline", bodies), base[:100])
                print_counts(app, lambda bodies: run("/webhooks/whatsapp", bodies), hooks[50:150])
                return
            b_us = run("/bench/baseline", base)
            if args.no_profile:
                w_us = run("/webhooks/whatsapp", hooks[50:])
                print(f"CPU per request: webhook {w_us:.0f} us, baseline {b_us:.0f} us")
                return
            profile = cProfile.Profile()
            profile.enable()
            w_us = run("/webhooks/whatsapp", hooks[50:])
            profile.disable()
            print(
                f"CPU per request: webhook {w_us:.0f} us (under cProfile), baseline {b_us:.0f} us"
            )
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        finally:
            if schema:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def print_counts(app: object, run: object, bodies: list) -> None:
    """Statements, transactions and PostgreSQL round trips per request, seen by the driver.

    Counted below SQLAlchemy, so statements run on the driver's cursor (app/prepared.py)
    count too. SQLite: sqlite3's trace callback (every statement, BEGIN and COMMIT included).
    PostgreSQL: libpq's protocol trace; a round trip is one Sync (extended protocol: every
    statement with parameters) or one simple Query (psycopg's BEGIN and COMMIT), plus the
    pool's pre-ping (one per checkout, before the trace starts).
    """
    from app.web import runtime

    with app.app_context():
        engine = runtime().db.engine
    counts: dict[str, int] = {}
    statements: list[str] = []
    with tempfile.TemporaryFile() as trace:
        _count(engine, run, bodies, counts, statements, trace)


def _count(engine: Any, run: Any, bodies: list, counts: dict, statements: list, trace: Any) -> None:
    from sqlalchemy import event

    def checkout(dbapi_conn: Any, *_: Any) -> None:
        counts["checkout"] = counts.get("checkout", 0) + 1
        if engine.dialect.name == "sqlite":
            dbapi_conn.set_trace_callback(statements.append)
        else:
            dbapi_conn.pgconn.trace(trace.fileno())

    def checkin(dbapi_conn: Any, *_: Any) -> None:
        if engine.dialect.name == "sqlite":
            dbapi_conn.set_trace_callback(None)
        else:
            dbapi_conn.pgconn.untrace()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        run(bodies)
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    if engine.dialect.name == "sqlite":
        for sql in statements:
            word = sql.split(None, 1)[0].upper()
            kind = word if word in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE") else ""
            counts[kind.lower() or "statements"] = counts.get(kind.lower() or "statements", 0) + 1
    else:
        trace.seek(0)
        for line in trace.read().decode(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 4 or parts[1] != "F":
                continue
            if parts[3] in ("Sync", "Query"):
                counts["round trips"] = counts.get("round trips", 0) + 1
            if parts[3] == "Bind" or (parts[3] == "Query" and "BEGIN" not in line
                                     and "COMMIT" not in line):  # fmt: skip
                counts["statements"] = counts.get("statements", 0) + 1
            if parts[3] == "Query" and ("BEGIN" in line or "COMMIT" in line):
                kind = "begin" if "BEGIN" in line else "commit"
                counts[kind] = counts.get(kind, 0) + 1
        # the pool's pre-ping runs before the checkout event, untraced: one per checkout
        counts["round trips"] = counts.get("round trips", 0) + counts["checkout"]
    per = ", ".join(f"{k} {v / len(bodies):.2f}" for k, v in sorted(counts.items()))
    print(f"per request: {per}")


if __name__ == "__main__":
    main()
