"""Production gunicorn settings: `gunicorn -c python:app.serving wsgi:app`.

Why these (measured by bench/endpoint.py, see bench/README.md):
- `gthread`: Meta's servers are far away. A sync worker is held for the whole time a slow
  client takes to deliver its request body (one round trip when the body follows the headers
  in a second segment), so one sync worker fell to ~1/RTT requests per second. A thread per
  in-flight request with idle keep-alive connections parked in gunicorn's poller keeps the
  CPU busy instead. Threads overlap the waiting; the computing (RSA unwrap above all) is
  serialised by the GIL, which is why there is one process per core.
- one worker process per core (`WEB_CONCURRENCY`, default: the CPUs this process may use):
  keys are parsed once per worker at startup, never per request.
- `keepalive` 75 s: longer than the usual 60 s idle timeout of proxies and load balancers, so
  the far side closes idle connections first and never sends on a socket we just closed.
- `timeout` 30 s: Meta gives up after 10 s; a worker stuck three times that long is restarted.
- `pre_request`/`post_request`: hand gunicorn's request to app/web/connection.py so that a
  413 closes the connection instead of gunicorn reading the oversized body to its end.
Alternative: a buffering reverse proxy (nginx with `proxy_request_buffering on`) in front of
sync workers absorbs slow clients too; gthread needs no extra moving part.
Each value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import os
from typing import Any

from app.logs import configure_from_environment

# Flowgate's log lines (FLOWGATE_LOG_FORMAT text|json), set in the master, inherited by workers.
configure_from_environment()

bind = os.environ.get("FLOWGATE_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0))))
threads = int(os.environ.get("FLOWGATE_THREADS", "64"))
keepalive = 75
timeout = 30
graceful_timeout = 30
backlog = 2048
# Meta posts small bodies; refuse absurd request lines and headers early.
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("FLOWGATE_ACCESS_LOG") or None


def pre_request(worker: Any, req: Any) -> None:
    """Let the application end this connection after a 413 (app/web/connection.py)."""
    from app.web.connection import remember

    remember(req)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    from app.web.connection import forget

    forget()


def on_starting(server: object) -> None:
    """Check the settings in the master, before any worker: all problems at once, plainly.

    gunicorn calls this hook once at start-up (https://docs.gunicorn.org/en/stable/settings.html#on-starting);
    exiting here stops gunicorn with status 1 and no traceback.
    """
    import sys

    from app.config import Config
    from app.errors import ConfigError
    from app.settings_check import require

    try:
        require(Config.load())
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        raise SystemExit(1) from None
