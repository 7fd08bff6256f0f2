"""Media fetch throughput: one media worker against a loopback fake CDN, vs a plain download.

For each size (100 KB and 10 MB) the same encrypted files sit on a loopback fake of Meta's
CDN (a static file server in its own process). Two contenders, interleaved per round (order
alternating), each fetching every file once, one at a time:
- pipeline: `MediaWorker` with concurrency 1 on SQLite: claim the row, download through the
  SSRF guard and pinned connection, hash + HMAC + AES-CBC decrypt in chunks to a staged file,
  detect the type, commit it content-addressed, record the result (app/media/);
- baseline: a plain httpx streamed GET of the same bytes written to a file on the same disk.
The pipeline's time runs from the worker's start to the last file's recorded result.
Ratio = pipeline throughput / baseline throughput (goal >= 0.7). Peak memory of the 10 MB
case: tests/media/memory_probe.py in a fresh subprocess (peak RSS and its growth during the
fetch). Prints medians with the spread (min-max); exits 1 if the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import clock  # noqa: E402
from app.config import Config  # noqa: E402
from app.db import Database  # noqa: E402
from app.media.extract import extract_uploads  # noqa: E402
from app.media.records import attach_uploads  # noqa: E402
from app.media.worker import MediaWorker  # noqa: E402
from app.models import Base, MediaFile  # noqa: E402
from tests.media.fakes import encrypt_upload  # noqa: E402

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
GOAL = 0.7


SERVER = """
import functools, sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class FileCdn:
    """The fake CDN in its own process (a static file server on loopback), so that neither
    contender shares its interpreter with the server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(root)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def make_files(cdn: FileCdn, size: int, count: int) -> list[dict]:
    """Encrypted uploads on the CDN (tests/media/fakes.py `encrypt_upload`)."""
    items = []
    for _ in range(count):
        cdn_file, metadata = encrypt_upload(JPEG_HEAD + os.urandom(size - len(JPEG_HEAD)))
        name = f"{uuid.uuid4().hex}.enc"
        (cdn.root / name).write_bytes(cdn_file)
        items.append(
            {
                "file_name": "x.jpg",
                "media_id": name,
                "cdn_url": f"{cdn.base}/{name}",
                "encryption_metadata": metadata,
                "size": len(cdn_file),
            }
        )
    return items


def run_pipeline(work: Path, items: list[dict]) -> float:
    """Seconds for one worker to fetch every item (rows inserted before the clock starts)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = Config.load(
        {
            "FLOWGATE_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "FLOWGATE_MEDIA_DIR": str(work / "media"),
            "FLOWGATE_MEDIA_HOSTS": "127.0.0.1",
            "FLOWGATE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
            "FLOWGATE_MAX_MEDIA_BYTES": str(64 * 1024 * 1024),
            "FLOWGATE_TOKEN_SECRET": "bench",
        },
        environ={},
        dotenv_path=None,
    )
    db = Database(config.database_url)
    Base.metadata.create_all(db.engine)
    _, uploads = extract_uploads({"photos": items})
    with db.transaction() as session:
        attach_uploads(session, "bench-lead", "bench", uploads, None, clock.now())
    worker = MediaWorker.from_config(db, config, concurrency=1, poll_interval=0.01)
    started = clock.now()
    stats = worker.run(drain=True, max_seconds=600)
    # Until the last file was recorded: the drain's "nothing left?" polling is not the work.
    with db.session() as session:
        finished = session.scalar(select(func.max(MediaFile.updated_at)))
    seconds = (finished - started).total_seconds()
    db.dispose()
    if stats.stored != len(items):
        raise SystemExit(f"pipeline stored {stats.stored} of {len(items)} files")
    return seconds


def run_baseline(work: Path, items: list[dict]) -> float:
    """Seconds to stream every item's bytes to a file with a plain httpx client."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = clock.now()
    with httpx.Client(trust_env=False) as client:
        for i, item in enumerate(items):
            with (
                client.stream("GET", item["cdn_url"]) as response,
                (work / f"{i}.bin").open("wb") as out,
            ):
                for chunk in response.iter_raw(256 * 1024):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    return (clock.now() - started).total_seconds()


def peak_memory(cdn: FileCdn, work: Path) -> dict:
    item = make_files(cdn, 10 * 1024 * 1024, 1)[0]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.media.memory_probe",
            str(work / "probe"),
            item["cdn_url"],
            json.dumps(item["encryption_metadata"]),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flowgate-media-bench-"))
    cdn = FileCdn(work / "cdn")
    missed = False
    try:
        for label, size, count in (("100 KB", 100 * 1024, 40), ("10 MB", 10 * 1024 * 1024, 3)):
            items = make_files(cdn, size, count)
            total = sum(i.pop("size") for i in items)
            pipe, base = [], []
            for r in range(opts.rounds):
                order = ("pipe", "base") if r % 2 == 0 else ("base", "pipe")
                for who in order:
                    if who == "pipe":
                        pipe.append(total / run_pipeline(work / "pipe", items) / 1e6)
                    else:
                        base.append(total / run_baseline(work / "base", items) / 1e6)
            ratio = statistics.median(pipe) / statistics.median(base)
            ratios = [p / b for p, b in zip(pipe, base, strict=True)]
            missed |= ratio < GOAL
            print(
                f"{label} x {count}: pipeline {spread(pipe)} MB/s, baseline {spread(base)} MB/s,"
                f" ratio {ratio:.2f} (per round {min(ratios):.2f}-{max(ratios):.2f}),"
                f" goal >= {GOAL}"
            )
        memory = peak_memory(cdn, work)
        mib = 1024 * 1024
        print(
            f"10 MB peak RSS: {memory['rss_peak'] / mib:.1f} MiB"
            f" (growth during the fetch {(memory['rss_peak'] - memory['rss_baseline']) / mib:.1f}"
            f" MiB, Python allocation peak {memory['python_peak'] / mib:.1f} MiB)"
        )
    finally:
        cdn.close()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
