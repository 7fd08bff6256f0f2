"""A fake of the Graph API's `POST /{phone_number_id}/messages`, served on 127.0.0.1.

A real HTTP server (threaded `http.server`, random port) so the client's real httpx stack,
headers, timeouts and error handling are exercised. It records every request and answers
from a script: queued `(status, body, delay)` answers first, then Meta's success shape with a
new wamid per message.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_VERSION = "v23.0"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON


@dataclass(frozen=True)
class Scripted:
    status: int
    body: bytes
    delay: float = 0.0


class FakeGraph:
    """Start with `with FakeGraph() as graph:`; `graph.url` is FLOWGATE_GRAPH_API_URL."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answers: deque[Scripted] = deque()
        self.sent = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                with fake._lock:
                    fake.requests.append(
                        Recorded(
                            "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    scripted = fake.answers.popleft() if fake.answers else fake._success(body)
                if scripted.delay:
                    time.sleep(scripted.delay)
                try:
                    self.send_response(scripted.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(scripted.body)))
                    self.end_headers()
                    self.wfile.write(scripted.body)
                except OSError:  # the client gave up (timeout tests)
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll (the default is 0.5 s).
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/{API_VERSION}"

    def _success(self, body: Any) -> Scripted:
        self.sent += 1
        to = body.get("to") if isinstance(body, dict) else None
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.FAKE{self.sent:04d}"}],
        }
        return Scripted(200, json.dumps(answer).encode())

    def answer(self, status: int, body: Any, delay: float = 0.0) -> None:
        """Queue one answer (a dict is sent as JSON, bytes as they are)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append(Scripted(status, raw, delay))

    def error(self, code: int, message: str, status: int = 400, **extra: Any) -> None:
        """Queue a Graph API error object like Meta's."""
        error = {"message": message, "type": "OAuthException", "code": code}
        error.update({"fbtrace_id": "AbCdEfGh123"}, **extra)
        self.answer(status, {"error": error})

    def __enter__(self) -> FakeGraph:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
