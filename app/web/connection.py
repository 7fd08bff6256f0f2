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

from flask import Flask, Response, request

_current = threading.local()

# The admin API and the dashboard take small JSON bodies and forms (a message, a webhook
# endpoint, a sign-in); 1 MiB is far above any of them. Without a cap Flask would read any
# body into memory. The Flow endpoint and Meta's webhook enforce their own limits
# (FLOWGATE_MAX_ENDPOINT_BODY; 8 MiB for Meta's batches).
ADMIN_MAX_BODY = 1_048_576
_CAPPED = ("/api/", "/dashboard/")


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


def _cap_admin_body() -> None:
    """A larger body on the admin surfaces is a 413 (JSON error, connection closed) as soon
    as it is read, declared or chunked: Werkzeug's stream stops at the limit."""
    if request.path.startswith(_CAPPED):
        request.max_content_length = ADMIN_MAX_BODY


def read_capped_body() -> bytes:
    """The request body, read once and cached for `request.get_json`; a 413 past the cap.

    Werkzeug's stream stops quietly at `max_content_length` when the length was not declared
    (chunked); one more read raises its 413 then. A body of exactly the cap counts as over.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(data) >= limit:
        request.stream.read(1)
    return data


def register(app: Flask) -> None:
    """Every 413 Flask answers (Meta's webhook, the admin API) ends its connection too, and
    the admin surfaces' bodies are capped."""
    app.before_request(_cap_admin_body)
    app.after_request(_close_on_413)
