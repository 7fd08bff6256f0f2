"""`POST /flows/<flow>/endpoint`: the HTTP shell of the Flow data endpoint.

A plain WSGI layer in front of the Flask app rather than a Flask view: the endpoint's budget
is dominated by one RSA unwrap (~250 us), and Flask's request context, routing and response
objects added ~120 us more per request (bench/endpoint.py; docs/endpoint.md). The layer only
matches the path, answers 404/405/413 itself (docs/contract.md's order: 404 before 413), reads the
raw body with a bounded read and hands it to `app.endpoint.service`, which does the rest.
Every other path goes to Flask unchanged. Each request is recorded for /metrics and the flow
health check when its answer is ready (`app.ops.observe`, docs/operations.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from flask import Flask

from app.endpoint.protocol import AnswerViolation
from app.endpoint.service import CONTENT_TYPE, EndpointService, Reply
from app.ops.observe import EndpointObserver
from app.web import runtime
from app.web.connection import close_after_response

log = logging.getLogger("flowgate.endpoint")

PATH = re.compile(r"^/flows/([^/]+)/endpoint/?$")
REASONS = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    421: "421 Misdirected Request",
    427: "427 Flow Token Invalid",
    432: "432 Request Signature Invalid",
    500: "500 Internal Server Error",
}
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _read(environ: dict[str, Any], limit: int) -> bytes | None:
    """The raw body, or None when it is longer than `limit` (read at most limit + 1 bytes)."""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > limit:
        return None
    if not length.isdigit() and not environ.get("wsgi.input_terminated"):
        return b""  # WSGI: no Content-Length and an unterminated stream means no body
    want = min(int(length), limit + 1) if length.isdigit() else limit + 1
    stream, chunks, got = environ["wsgi.input"], [], 0
    while got < want:
        chunk = stream.read(want - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    body = b"".join(chunks)
    return None if len(body) > limit else body


class EndpointShell:
    """WSGI middleware serving the endpoint path, passing everything else to `app`."""

    def __init__(
        self, app: WSGIApp, service: EndpointService, observer: EndpointObserver | None = None
    ) -> None:
        self.app = app
        self.service = service
        self.observer = observer or EndpointObserver()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = PATH.match(environ.get("PATH_INFO") or "")
        if match is None:
            return self.app(environ, start_response)
        started = perf_counter()
        served: list[Any] = ["", None]  # the flow (when it is one of ours) and the Reply
        try:
            status, body, headers = self._serve(match.group(1), environ, served)
        except AnswerViolation as exc:  # only when config.testing: fail loudly
            status, body, headers = 500, f"answer violation: {exc.message}".encode(), []
        except Exception:
            log.exception("endpoint failed")  # a bug: no traceback to the client
            status, body, headers = 500, b"", []
        headers += [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response(REASONS.get(status, f"{status} Error"), headers)
        self.observer.observe(served[0], served[1], status, perf_counter() - started)
        return [body]

    def _serve(
        self, flow: str, environ: dict[str, Any], served: list[Any]
    ) -> tuple[int, bytes, list]:
        definition = self.service.definition(flow)
        if definition is None:
            return 404, b"", []
        served[0] = definition.name  # a flow file's name: a bounded metrics label
        if environ.get("REQUEST_METHOD") != "POST":
            return 405, b"", [("Allow", "POST")]
        body = _read(environ, self.service.max_body)
        if body is None:
            close_after_response()  # never read the rest (app/web/connection.py)
            return 413, b"", [("Connection", "close")]
        reply: Reply = self.service.handle(
            definition, body, environ.get("HTTP_X_HUB_SIGNATURE_256")
        )
        served[1] = reply
        return reply.status, reply.body.encode("ascii"), []


def register(app: Flask) -> None:
    """Put the endpoint shell in front of `app` (one EndpointService per app)."""
    service = EndpointService(runtime(app))
    app.extensions["flowgate.endpoint"] = service
    observer = EndpointObserver(runtime(app))
    app.extensions["flowgate.observer"] = observer
    app.wsgi_app = EndpointShell(app.wsgi_app, service, observer)  # type: ignore[method-assign]
