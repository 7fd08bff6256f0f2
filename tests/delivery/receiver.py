"""A programmable webhook receiver on 127.0.0.1 (real HTTP, loopback only).

Each request is recorded (headers lower-cased, raw body) and answered by `script(n, request)`
returning a `Reply`: status, headers, body, a delay before answering, or a body dripped one
byte at a time. Stop it with `close()` (the fixture does); it never outlives a test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (0: send at once)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


Script = Callable[[int, Received], Reply]


class Receiver:
    """Start with `Receiver(script)`; `url` is where to send; `requests` what arrived."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda _n, _r: Reply())
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                received = Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                )
                with owner._lock:
                    owner.requests.append(received)
                    n = len(owner.requests)
                reply = owner.script(n, received)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    # 204 and 304 carry no body (RFC 9110 §15.3.5): a body would be read as
                    # the start of the next answer on a kept-alive connection.
                    body = b"" if reply.status in (204, 304) else reply.body
                    if reply.status not in (204, 304):
                        self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    if not body:
                        pass
                    elif reply.drip:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def ids(self) -> list[str]:
        with self._lock:
            return [r.headers["webhook-id"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
