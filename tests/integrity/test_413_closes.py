"""An over-limit request ends its connection under gunicorn: nothing more is read.

A real gunicorn with the production settings (app/serving.py), on a loopback socket bound to
port 0, spoken to with a raw socket (an HTTP client library would hide the connection).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.db import Database
from tests.conftest import API_TOKEN, ROOT

pytestmark = pytest.mark.skipif(
    not Path(sys.executable).with_name("gunicorn").exists(), reason="gunicorn not installed"
)


@pytest.fixture
def server(settings: dict[str, str], db: Database) -> Iterator[tuple[str, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    env = {**os.environ, **settings, "FLOWGATE_MAX_ENDPOINT_BODY": "4096", "WEB_CONCURRENCY": "1"}
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c", "python:app.serving",
        "--bind", f"fd://{sock.fileno()}",
        "--chdir", str(ROOT),
        "--log-level", "warning",
        "wsgi:app",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, pass_fds=(sock.fileno(),))
    sock.close()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    if probe.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            assert process.poll() is None, "gunicorn exited"
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=30)


def exchange(address: tuple[str, int], head: bytes, body: bytes) -> tuple[bytes, bool]:
    """Send `head` and part of a body, then read: the answer and whether the server closed."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(head + body)
        answer, closed = b"", False
        conn.settimeout(5)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    closed = True
                    break
                answer += data
        except ConnectionResetError:
            closed = True  # closed with our unread bytes pending: also an end
        except TimeoutError:
            closed = False  # the server is still waiting for the rest of the body
        return answer, closed


@pytest.mark.parametrize("path", ["/flows/appointment/endpoint", "/webhooks/whatsapp"])
def test_a_declared_oversized_body_gets_413_and_the_connection_ends(
    server: tuple[str, int], path: str
) -> None:
    size = 95 * 1024 * 1024
    head = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    answer, closed = exchange(server, head, b"x" * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()
    assert closed, "the server kept the connection open to read the rest of the body"


def test_a_chunked_oversized_body_gets_413_and_the_connection_ends(
    server: tuple[str, int],
) -> None:
    head = (
        b"POST /flows/appointment/endpoint HTTP/1.1\r\nHost: t\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (8192, b"y" * 8192)
    answer, closed = exchange(server, head, chunk * 2)  # 16 KiB > 4 KiB, no final chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert closed


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_an_oversized_admin_api_body_gets_413_and_the_connection_ends(
    server: tuple[str, int], chunked: bool
) -> None:
    """The admin API reads no body past 1 MiB (app/web/connection.py), declared or not."""
    auth = f"Authorization: Bearer {API_TOKEN}\r\n".encode()
    head = b"POST /api/v1/webhook-endpoints HTTP/1.1\r\nHost: t\r\n"
    head += b"Content-Type: application/json\r\n"
    if chunked:
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        head += auth + b"Transfer-Encoding: chunked\r\n\r\n"
        answer, closed = exchange(server, head, chunk * 17)  # 1.06 MiB, no final chunk
    else:
        head += auth + b"Content-Length: %d\r\n\r\n" % (95 * 1024 * 1024)
        answer, closed = exchange(server, head, b" " * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"request_entity_too_large"' in answer.replace(b" ", b"")
    assert closed


def test_an_oversized_admin_api_body_changes_nothing(
    client: FlaskClient, api_headers: dict[str, str]
) -> None:
    padding = " " * (1024 * 1024)
    body = f'{{"url": "http://127.0.0.1:9/hook",{padding}"description": "x"}}'
    answer = client.post("/api/v1/webhook-endpoints", data=body, headers=api_headers,
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "request_entity_too_large"
    assert client.get("/api/v1/webhook-endpoints", headers=api_headers).get_json()["items"] == []
    small = client.post("/api/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook"},
                        headers=api_headers)  # fmt: skip
    assert small.status_code == 201, small.get_json()
