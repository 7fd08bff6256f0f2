"""Flows reload under gunicorn with SIGHUP, and a request in flight at that moment is answered.

gunicorn's HUP starts new workers with the configuration re-read and stops the old ones
gracefully (https://docs.gunicorn.org/en/stable/signals.html); Flowgate loads flows/ when a
worker builds the app (no preload), so new workers serve the new flows while the old ones
finish what they hold (up to `graceful_timeout`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.firstrun.repo import Processes, clean_env, log_match, wait_for


def test_sighup_reloads_flows_without_dropping_a_request_in_flight(
    tmp_path: Path, processes: Processes, settings: dict[str, str], db
) -> None:  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "flows", flows)
    shutil.copytree(ROOT / "schemas", schemas)
    env = clean_env(ROOT, FLOWGATE_BIND="127.0.0.1:0", WEB_CONCURRENCY="1", FLOWGATE_THREADS="4")
    env.update({k: v for k, v in settings.items() if k.startswith("FLOWGATE_")})
    env.update(FLOWGATE_FLOWS_DIR=str(flows), FLOWGATE_SCHEMAS_DIR=str(schemas))
    log = tmp_path / "gunicorn.log"
    master = processes.start(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "python:app.serving", "wsgi:app"], ROOT, env, log
    )
    found = wait_for(lambda: log_match(log, r"Listening at: http://127\.0\.0\.1:(\d+)"), 30, "up")
    port = int(found.group(1))  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"

    def served() -> list[str]:
        try:
            return list(httpx.get(f"{base}/readyz", timeout=5).json()["served"])
        except (httpx.TransportError, ValueError):
            return []

    assert wait_for(served, 30, "readyz") == ["appointment", "lead_capture"]

    # A request in flight: its head is half sent, so a worker thread is reading it.
    in_flight = socket.create_connection(("127.0.0.1", port), timeout=30)
    in_flight.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    shutil.copy(flows / "lead_capture.json", flows / "callback.json")
    shutil.copy(schemas / "lead_capture.json", schemas / "callback.json")
    os.kill(master.pid, signal.SIGHUP)
    wait_for(lambda: "callback" in served(), 30, "the new flow after SIGHUP")

    in_flight.sendall(b"Connection: close\r\n\r\n")
    answer = b""
    while chunk := in_flight.recv(4096):
        answer += chunk
    in_flight.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b'"database":"ok"' in answer.replace(b" ", b"")
    assert master.poll() is None  # the master kept running
