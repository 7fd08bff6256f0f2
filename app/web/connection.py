"""Ending the connection after a 413, so an over-limit body is never read to its end.

An HTTP/1.1 server that answers before reading a request body must either read (and drop)
the rest or close the connection (RFC 9112 §9.6, https://www.rfc-editor.org/rfc/rfc9112#section-9.6;
RFC 9110 §15.5.14 lets a 413 close it). gunicorn keeps the connection alive and, before parsing
the next request, reads whatever is left of the previous body (its `Parser.__next__`), and it
drops a `Connection: close` header set by the application (a hop-by-hop header it manages
itself). So after a 413 the server went on reading the whole oversized body.

What gunicorn does honour is its own request's `force_close()`: the response then carries
`Connection: close` and the worker closes the socket without draining. Its `pre_request`
server hook (https://docs.gunicorn.org/en/stable/settings.html#pre-request) runs in the
thread that then calls the application (sync and gthread workers), so app/serving.py hands
the request to `remember` there, and the application calls `close_after_response` on a 413.
Under any other server (Flask's test client, `flask run`) nothing is remembered and the
`Connection: close` header the shells set is all there is.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response

_current = threading.local()


def remember(request: Any) -> None:
    """gunicorn's pre_request hook: the request the application is about to serve."""
    _current.request = request


def forget() -> None:
    """gunicorn's post_request hook: nothing is held after the request."""
    _current.request = None


def close_after_response() -> None:
    """Make the server close this connection once the response is sent (no-op elsewhere)."""
    request = getattr(_current, "request", None)
    force_close = getattr(request, "force_close", None)
    if callable(force_close):
        force_close()


def _close_on_413(response: Response) -> Response:
    if response.status_code == 413:
        response.headers["Connection"] = "close"
        close_after_response()
    return response


def register(app: Flask) -> None:
    """Every 413 Flask answers (Meta's webhook, the admin API) ends its connection too."""
    app.after_request(_close_on_413)
