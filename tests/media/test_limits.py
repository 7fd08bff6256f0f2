"""Bounded memory for a 10 MB file, and a worker killed mid-download (both measured for real,
in subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.db import Database
from app.models import MediaFile
from tests.conftest import ROOT
from tests.media.conftest import JPEG, run_media, submit
from tests.media.fakes import FakeMeta

MB = 1024 * 1024


def test_ten_megabytes_with_peak_memory_under_50_mb(tmp_path: Path, fake: FakeMeta) -> None:
    plaintext = JPEG + os.urandom(10 * MB)
    item = fake.cdn_upload(plaintext)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.media.memory_probe",
            str(tmp_path / "media"),
            item["cdn_url"],
            json.dumps(item["encryption_metadata"]),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(out.stdout)
    assert figures["status"] == "stored", figures
    assert figures["sha256"] == hashlib.sha256(plaintext).hexdigest()
    growth = figures["rss_peak"] - figures["rss_baseline"]
    assert growth < 50 * MB, figures
    # Stronger: Python never held anything near the file (chunks of 256 KiB at most).
    assert figures["python_peak"] < 4 * MB, figures
    assert figures["rss_peak"] < 150 * MB, figures


WORKER_SCRIPT = """
import json, sys
from app.config import Config
from app.db import Database
from app.media.worker import MediaWorker
settings = json.loads(sys.argv[1])
config = Config.load(settings, environ={}, dotenv_path=None)
db = Database(config.database_url)
worker = MediaWorker.from_config(db, config, poll_interval=0.05)
print("ready", flush=True)
worker.run()
"""


def test_worker_killed_mid_download_resumes_and_stores_once(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    plaintext = JPEG + os.urandom(3 * MB)
    item = fake.cdn_upload(plaintext, chunk=64 * 1024, delay=0.05)  # ~2.5 s to serve
    path = item["cdn_url"].removeprefix(fake.base)
    submit(app, "damage_photo", {"name": "Ana", "photos": [item]})
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, json.dumps(settings)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while fake.bytes_sent.get(path, 0) < MB and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.bytes_sent.get(path, 0) >= MB, "the worker never started the download"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    media_dir = Path(settings["FLOWGATE_MEDIA_DIR"])
    with db.session() as session:
        row = session.scalars(select(MediaFile)).one()
        assert (row.status, row.attempts, row.lease_owner is not None) == ("pending", 1, True)
    assert list((media_dir / "tmp").iterdir()), "the killed worker left its staged file"
    assert not list(media_dir.glob("sha256/*/*"))

    # The lease runs out (moved back here instead of waiting), then another worker takes over.
    from sqlalchemy import update

    from app import clock

    with db.transaction() as session:
        session.execute(update(MediaFile).values(next_attempt_at=clock.now()))
    fake.paths[path].delay = 0.0
    worker = run_media(db, settings)
    # its start cleans stale staged files only past the lease; the new one is committed
    with db.session() as session:
        row = session.scalars(select(MediaFile)).one()
    assert (row.status, row.attempts, worker.stats.stored) == ("stored", 2, 1)
    files = list(media_dir.glob("sha256/*/*"))
    assert len(files) == 1 and files[0].read_bytes() == plaintext
    requests = [p for p, _ in fake.requests if p == path]
    assert len(requests) == 2
