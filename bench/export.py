"""Benchmark: `flowgate export` against the database's own CSV export, same rows, same run.

Loads N submissions of a 10-field flow (bulk: sqlite3 executemany / PostgreSQL COPY, never
the ORM row by row), then times, in separate processes:
- `flowgate export -o FILE` (the real CLI: one snapshot, keyset batches, sanitised cells);
- the baseline: `sqlite3 -csv` (or `psql \\copy`) selecting the same columns, the ten fields
  pulled out of the JSON by the database, in the same order.
Wall time and peak RSS (ru_maxrss of that process alone) per process; rows/s; the ratio
flowgate/baseline. Goals: peak RSS < 150 MB, RSS at 1M within 20 % of 100k, wall
time within 3x of the baseline. The command's fixed cost (imports, app, flow registry) is
measured too, as an export matching no row, and shown beside the ratio, as is the CPU time
of both processes (steadier than wall time on a shared machine; for PostgreSQL it leaves out
the server's own work, which psql's figure mostly is).

    .venv/bin/python bench/export.py                       # SQLite, 100k and 1M
    .venv/bin/python bench/export.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/export.py --rows 100000          # quicker
    .venv/bin/python bench/export.py --repeat 5 --cli /path/to/other/flowgate   # compare builds

Needs the `sqlite3` shell (Debian: apt-get install -y sqlite3) and, for PostgreSQL, `psql`.
Everything runs on loopback and in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.crypto.keys import generate_private_key, private_pem  # noqa: E402
from app.models import Base  # noqa: E402

FLOW = "bench_leads"
FIELDS = {
    "name": {"type": "string"},
    "phone": {"type": "string"},
    "email": {"type": "string"},
    "company": {"type": "string"},
    "city": {"type": "string"},
    "service": {"type": "string"},
    "preferred_date": {"type": "string"},
    "budget": {"type": "number"},
    "consent": {"type": "boolean"},
    "notes": {"type": "string"},
}
COLUMNS = (
    "id, flow, wa_id, contact_name, flow_token, source, status, fields, errors, dedup_key,"
    " message_id, submitted_at, received_at"
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Run:
    wall: float
    rss_mb: float
    cpu: float  # user + system seconds of the process itself (not the database server's)


def rows(n: int) -> Iterator[tuple[object, ...]]:
    """Realistic leads; every 50th carries formula-looking text, commas, quotes, newlines."""
    for i in range(n):
        hostile = i % 50 == 0
        fields = {
            "name": f'=HYPERLINK("x","Lead {i}")' if hostile else f"Lead Número {i}",
            "phone": f"+49 170 {i:07d}",
            "email": f"lead{i}@example.com",
            "company": f'Acme, "Tools" {i % 997}',
            "city": ["Berlin", "São Paulo", "Lagos", "Pune"][i % 4],
            "service": ["consultation", "installation", "maintenance", "other"][i % 4],
            "preferred_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "budget": (i % 10000) * 1.5,
            "consent": i % 3 != 0,
            "notes": "line one\nline two, with comma" if hostile else "call after 5pm",
        }
        ident = str(uuid.UUID(int=i + 1))
        at = T0 + timedelta(seconds=i * 7, microseconds=i % 1000)
        yield (
            ident,
            FLOW,
            f"49170{i:07d}",
            f"Lead {i}",
            None,
            "webhook",
            "valid" if i % 10 else "invalid",
            json.dumps(fields, ensure_ascii=False),
            "[]",
            f"message:{ident}",
            None,
            at,
            at,
        )


def chunked(it: Iterator[tuple[object, ...]], size: int) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in it:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def sqlite_time(at: datetime) -> str:
    # The storage format SQLAlchemy uses for DateTime on SQLite (naive UTC).
    return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def load_sqlite(path: Path, n: int) -> None:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    placeholders = ",".join("?" * 13)
    with conn:
        for batch in chunked(rows(n), 50_000):
            conn.executemany(
                f"INSERT INTO submissions ({COLUMNS}) VALUES ({placeholders})",
                [(*r[:11], sqlite_time(r[11]), sqlite_time(r[12])) for r in batch],  # type: ignore[arg-type]
            )
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, n: int) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY submissions ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows(n):
                copy.write_row(row)
        conn.execute(text("ANALYZE submissions"))
    engine.dispose()


# Runs argv[2:] in a fresh child of this small process and writes "wall maxrss_kb" to argv[1].
# Why a middleman: a child forked straight from the benchmark would count the benchmark's own
# memory (Linux keeps the pre-exec RSS in ru_maxrss); forked from here it starts small.
_MEASURE = """
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as f:
    cpu = usage.ru_utime + usage.ru_stime
    f.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


def measure(argv: list[str], env: dict[str, str] | None = None, stdout: int | None = None) -> Run:
    """Run `argv` to completion; its wall time and its own peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".measure") as result:
        subprocess.run(
            [sys.executable, "-c", _MEASURE, result.name, *argv],
            env=env,
            stdout=stdout or subprocess.DEVNULL,
            check=True,
        )
        wall, rss_kb, code, cpu = result.read().split()
    if int(code) != 0:
        raise SystemExit(f"{argv[0]} failed with {code}")
    return Run(float(wall), int(rss_kb) / 1024, float(cpu))


def select_list(json_of: str) -> str:
    parts = ["id", "submitted_at", "flow", "wa_id", "contact_name", "source", "status"]
    return ", ".join(parts + [json_of.format(name) for name in FIELDS])


def instance(tmp: Path, database_url: str) -> dict[str, str]:
    """Environment for the CLI: a throwaway instance with the bench flow and its schema."""
    (tmp / "flows").mkdir(exist_ok=True)
    (tmp / "schemas").mkdir(exist_ok=True)
    shutil.copy(ROOT / "flows" / "lead_capture.json", tmp / "flows" / f"{FLOW}.json")
    schema = {"type": "object", "properties": FIELDS}
    (tmp / "schemas" / f"{FLOW}.json").write_text(json.dumps(schema))
    key = tmp / "key.pem"
    if not key.exists():
        key.write_bytes(private_pem(generate_private_key(), None))
    return {
        **os.environ,
        "FLOWGATE_ENV": "production",
        "FLOWGATE_INSTANCE_PATH": str(tmp),
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_FLOWS_DIR": str(tmp / "flows"),
        "FLOWGATE_SCHEMAS_DIR": str(tmp / "schemas"),
        "FLOWGATE_PRIVATE_KEY_FILE": str(key),
        "FLOWGATE_APP_SECRET": "bench",
        "FLOWGATE_TOKEN_SECRET": "bench",
    }


CLI = [str(Path(sys.executable).parent / "flowgate")]  # --cli replaces it


def flowgate_export(env: dict[str, str], out: Path, *extra: str) -> Run:
    return measure([*CLI, "export", "-o", str(out), *extra], env)


def startup(env: dict[str, str], tmp: Path) -> Run:
    """The fixed cost of the command (imports, app, flows): an export that matches no row."""
    return flowgate_export(env, tmp / "empty.csv", "--since", "2999-01-01")


def median(runs: list[Run]) -> Run:
    """Per measure, the median over the repeats (wall, RSS and CPU taken separately)."""
    pick = statistics.median_low
    return Run(pick(r.wall for r in runs), pick(r.rss_mb for r in runs), pick(r.cpu for r in runs))


SPREAD: list[str] = []  # per size: the wall-time range of each command, printed after the table


def alternate(repeat: int, *commands: Callable[[], Run]) -> list[Run]:
    """Each command `repeat` times, interleaved (so a burst of load on the shared machine
    hits all of them alike); the median run of each."""
    runs: list[list[Run]] = [[] for _ in commands]
    for _ in range(repeat):
        for command, results in zip(commands, runs, strict=True):
            results.append(command())
    ratios = sorted(a.wall / b.wall for a, b in zip(runs[0], runs[1], strict=True))
    walls = ", ".join(f"{min(r.wall for r in rs):.2f}-{max(r.wall for r in rs):.2f}" for rs in runs)
    SPREAD.append(
        f"wall s min-max (flowgate, baseline, startup): {walls}; "
        f"per-run ratio {ratios[0]:.2f}-{ratios[-1]:.2f}x"
    )
    return [median(results) for results in runs]


def bench_sqlite(tmp: Path, n: int, repeat: int) -> list[Run]:
    db = tmp / f"bench_{n}.sqlite3"
    load_sqlite(db, n)
    env = instance(tmp, f"sqlite:///{db}")
    query = (
        "SELECT " + select_list("json_extract(fields, '$.{}')") + " "
        "FROM submissions ORDER BY submitted_at, id"
    )

    def baseline() -> Run:
        with open(tmp / "sqlite3.csv", "wb") as sink:
            return measure(["sqlite3", "-csv", "-header", str(db), query], stdout=sink.fileno())

    results = alternate(
        repeat,
        lambda: flowgate_export(env, tmp / "flowgate.csv"),
        baseline,
        lambda: startup(env, tmp),
    )
    check(tmp / "flowgate.csv", tmp / "sqlite3.csv", n)
    db.unlink()
    return results


def bench_postgres(tmp: Path, url: str, n: int, repeat: int) -> list[Run]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    plain = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(plain, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        pinned = plain.update_query_dict({"options": f"-csearch_path={schema}"})
        load_postgres(pinned.render_as_string(hide_password=False), n)
        env = instance(tmp, pinned.render_as_string(hide_password=False))
        select = select_list("fields->>'{}'")
        copy = (
            f"\\copy (SELECT {select} FROM {schema}.submissions ORDER BY submitted_at, id)"
            f" TO '{tmp / 'psql.csv'}' WITH CSV HEADER"
        )
        libpq = plain.set(drivername="postgresql").render_as_string(hide_password=False)
        results = alternate(
            repeat,
            lambda: flowgate_export(env, tmp / "flowgate.csv"),
            lambda: measure(["psql", "-q", libpq, "-c", copy]),
            lambda: startup(env, tmp),
        )
        check(tmp / "flowgate.csv", tmp / "psql.csv", n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return results


def check(ours: Path, base: Path, n: int) -> None:
    """Both files hold a header and n records (counted by the csv module, not by lines)."""
    import csv

    for path in (ours, base):
        with open(path, newline="", encoding="utf-8") as f:
            count = sum(1 for _ in csv.reader(f)) - 1
        if count != n:
            raise SystemExit(f"{path.name}: {count} rows, expected {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (also benchmark it)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each command per size (medians shown)"
    )
    parser.add_argument("--cli", help="the flowgate command to time (e.g. another build)")
    args = parser.parse_args()
    if args.cli:
        CLI[:] = [args.cli]
    counts = [int(c) for c in args.rows.split(",")]
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    if "sqlite" in backends and not shutil.which("sqlite3"):
        raise SystemExit("the sqlite3 shell is missing: apt-get install -y sqlite3")
    print(
        "| backend | rows | flowgate s | rows/s | peak RSS MB | baseline | baseline s | ratio "
        "| startup s | ratio without startup | CPU s flowgate / baseline |"
    )
    print("|" + "---|" * 11)
    results: dict[tuple[str, int], Run] = {}
    for backend in backends:
        for n in counts:
            with tempfile.TemporaryDirectory(prefix="flowgate-bench-") as tmp:
                if backend == "sqlite":
                    ours, base, fixed = bench_sqlite(Path(tmp), n, args.repeat)
                    name = "sqlite3 -csv"
                else:
                    ours, base, fixed = bench_postgres(Path(tmp), args.postgres, n, args.repeat)
                    name = "psql \\copy"
            results[(backend, n)] = ours
            print(
                f"| {backend} | {n:,} | {ours.wall:.2f} | {n / ours.wall:,.0f} | "
                f"{ours.rss_mb:.1f} | {name} | {base.wall:.2f} | {ours.wall / base.wall:.2f}x | "
                f"{fixed.wall:.2f} | {(ours.wall - fixed.wall) / base.wall:.2f}x | "
                f"{ours.cpu:.2f} / {base.cpu:.2f} |",
                flush=True,
            )
    print("\n".join(SPREAD))
    for backend in backends:
        if len(counts) > 1:
            small, large = results[(backend, min(counts))], results[(backend, max(counts))]
            growth = large.rss_mb / small.rss_mb - 1
            print(f"{backend}: peak RSS {max(counts):,} vs {min(counts):,}: {growth:+.1%}")


if __name__ == "__main__":
    main()
