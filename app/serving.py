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
import socket
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
# Spread connections over worker processes (docs/endpoint.md, "Spreading connections over
# workers"): each worker listens on its own SO_REUSEPORT socket and the kernel hands every new
# connection to one of them by a hash of its addresses. With one shared socket, the worker
# that wins the accept race keeps winning and its keep-alive connections stay with it
# (measured: 375 of 387 requests on one of two workers). FLOWGATE_REUSE_PORT=0 turns it off.
reuse_port = os.environ.get("FLOWGATE_REUSE_PORT", "1") != "0"
accesslog = os.environ.get("FLOWGATE_ACCESS_LOG") or None


def pre_request(worker: Any, req: Any) -> None:
    """Let the application end this connection after a 413 (app/web/connection.py)."""
    from app.web.connection import remember

    remember(req)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    from app.web.connection import forget

    forget()


# gunicorn's default format plus the worker's pid, to see how requests spread over workers.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" pid=%(p)s %(M)sms'


# --- metrics and health across worker processes (docs/operations.md) -------------------------
# prometheus_client's multiprocess mode: each worker writes its values to files in one
# directory and GET /metrics sums them. The directory is chosen here, in the master, before
# any worker imports the app (so do not use --preload), and emptied at every start as the
# library requires. PROMETHEUS_MULTIPROC_DIR, when set, is used (and emptied) instead.
_created_metrics_dir: list[str] = []


def on_starting(server: object) -> None:
    """In the master, before any worker: check the settings, then prepare the metrics folder.

    gunicorn calls this hook once at start-up
    (https://docs.gunicorn.org/en/stable/settings.html#on-starting). A settings problem is
    printed as plain lines, all at once, and stops gunicorn with status 1 and no traceback.
    """
    import sys
    import tempfile
    from pathlib import Path

    from app.config import Config
    from app.errors import ConfigError
    from app.settings_check import require

    try:
        require(Config.load())
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        raise SystemExit(1) from None

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="flowgate-metrics-")
        _created_metrics_dir.append(directory)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()


def when_ready(server: Any) -> None:
    """With reuse_port, the master's shared socket stops listening (it keeps the port bound),
    so every connection goes to a worker's own socket (post_fork)."""
    if not reuse_port:
        return
    for listener in server.LISTENERS:
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6):
            listener.sock.shutdown(socket.SHUT_RD)


def post_fork(server: Any, worker: Any) -> None:
    """With reuse_port, the worker listens on its own socket bound to the same address."""
    if not reuse_port:
        return
    own = []
    for listener in worker.sockets:
        if listener.sock.family not in (socket.AF_INET, socket.AF_INET6):
            own.append(listener)
            continue
        sock = socket.socket(listener.sock.family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # What gunicorn sets on its own TCP listeners (accepted sockets inherit it): without
        # it a keep-alive answer written in two sends waits for the client's delayed ACK
        # (about 40 ms on Linux) by Nagle's algorithm (RFC 896, RFC 1122 4.2.3.2).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(listener.sock.getsockname())
        sock.listen(server.cfg.backlog)
        sock.setblocking(False)
        own.append(sock)
    worker.sockets = own


def post_worker_init(worker: Any) -> None:
    """Start the health writer (so Meta's alerts are evaluated even before the first request)
    and say when the worker accepts connections (tests wait for it)."""
    observer = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("flowgate.observer")
    if observer is not None and observer.rollup is not None:
        observer.rollup.start()
    worker.log.info("worker ready (pid %s)", os.getpid())


def worker_exit(server: object, worker: object) -> None:
    """Write the worker's last health figures before it goes."""
    app = getattr(worker, "wsgi", None)
    observer = getattr(app, "extensions", {}).get("flowgate.observer")
    if observer is not None and observer.rollup is not None:
        observer.rollup.stop()


def child_exit(server: object, worker: Any) -> None:
    """A dead worker's live gauges go; its counters stay in the sums (they never go down).

    What prometheus_client's `multiprocess.mark_process_dead` does, without importing the
    library into the master: this runs in a SIGCHLD handler, where a second worker's exit can
    interrupt a half-done import, and the master must never import it before forking (workers
    would inherit its single-process mode).
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    for mode in ("liveall", "livesum", "livemax", "livemin", "livemostrecent"):
        path = os.path.join(directory, f"gauge_{mode}_{worker.pid}.db")
        if os.path.exists(path):
            os.remove(path)


def on_exit(server: object) -> None:
    import shutil

    for directory in _created_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
