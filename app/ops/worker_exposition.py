"""How `flowgate worker` exposes its own metrics (it is not behind gunicorn's /metrics).

Either an HTTP port that Prometheus scrapes (`--metrics-port`, bound to `--metrics-host`,
127.0.0.1 by default, served by prometheus_client's own server in a thread), or a textfile
rewritten every few seconds for node_exporter's textfile collector (`--metrics-textfile`;
atomic: the library writes a temporary file and renames it). Nothing is pushed anywhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, start_http_server, write_to_textfile

log = logging.getLogger("flowgate.metrics")
TEXTFILE_EVERY = 5.0


@dataclass
class Exposition:
    """What `start` started: the bound port (if any) and how to stop it all."""

    port: int | None = None
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        """Stop serving; the textfile gets a last write."""
        for stopper in self.stoppers:
            stopper()


def start(
    port: int | None = None, host: str = "127.0.0.1", textfile: str | None = None
) -> Exposition:
    """Start what is configured (`port` 0 picks a free one; None: no port)."""
    out = Exposition()
    stoppers = out.stoppers
    if port is not None:
        server, thread = start_http_server(port, addr=host)
        out.port = int(server.server_port)
        log.info("worker metrics on http://%s:%d/metrics", host, out.port)

        def stop_server() -> None:
            server.shutdown()
            thread.join(5)

        stoppers.append(stop_server)
    if textfile:
        done = threading.Event()

        def write() -> None:
            try:
                write_to_textfile(textfile, REGISTRY)
            except OSError as exc:
                log.warning("cannot write metrics textfile %s: %s", textfile, exc)

        def loop() -> None:
            while not done.wait(TEXTFILE_EVERY):
                write()

        write()
        writer = threading.Thread(target=loop, name="metrics-textfile", daemon=True)
        writer.start()

        def stop_writer() -> None:
            done.set()
            writer.join(5)
            write()

        stoppers.append(stop_writer)
    return out
