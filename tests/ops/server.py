"""A real gunicorn running the production settings (`-c python:app.serving`) on port 0.

Used by the metrics and worker-balance tests: the address is read from gunicorn's own
"Listening at" line, the access log (with each answer's worker pid) goes to a file.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from app.crypto.envelope import ResponseCipher, encrypt_request
from app.crypto.signatures import hub_signature
from tests.conftest import APP_SECRET, ROOT

LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
BOOTED = re.compile(rb"worker ready \(pid (\d+)\)")


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    access_log: Path
    worker_pids: list[int]

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def pids_in_access_log(self, path_prefix: str) -> list[int]:
        """The worker pid of every logged request whose path starts with `path_prefix`."""
        pids = []
        for line in self.access_log.read_text().splitlines():
            parts = line.split('"')
            if (
                len(parts) > 1
                and parts[1].split(" ")[1:2]
                and (parts[1].split(" ")[1].startswith(path_prefix))
            ):
                pids.append(int(re.search(r"pid=<(\d+)>", line).group(1)))  # type: ignore[union-attr]
        return pids


@contextmanager
def gunicorn(settings: dict[str, str], workers: int, tmp: Path) -> Iterator[Server]:
    """gunicorn with the production settings, `workers` processes, on an ephemeral port."""
    access_log = tmp / "access.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLOWGATE_", "PROMETHEUS_"))},
        **settings,
        "FLOWGATE_ACCESS_LOG": str(access_log),
        "FLOWGATE_BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": str(workers),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TESTING", None)  # a production process
    log_file = tmp / "gunicorn.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "python:app.serving", "--chdir", str(ROOT),
             "--log-level", "info", "wsgi:app"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        port, pids = None, []
        while time.monotonic() < deadline:
            text = log_file.read_bytes()
            port = port or (int(m.group(1)) if (m := LISTENING.search(text)) else None)
            pids = [int(p) for p in BOOTED.findall(text)]
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {text.decode(errors='replace')[-2000:]}")
            if port and len(pids) >= workers and _ready(port):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: {log_file.read_text()[-2000:]}")
        yield Server(port, process, access_log, pids)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def ping_request(key: rsa.RSAPrivateKey) -> tuple[bytes, dict[str, str], ResponseCipher]:
    """A signed, encrypted `ping` (docs/protocol.md §4.3) for the endpoint."""
    envelope, cipher = encrypt_request(key.public_key(), {"version": "3.0", "action": "ping"})
    body = json.dumps(envelope.to_dict()).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": hub_signature(APP_SECRET, body),
    }
    return body, headers, cipher
