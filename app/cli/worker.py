"""`flowgate worker`: deliver webhooks from the outbox until SIGTERM.

It needs only the database and the FLOWGATE_WEBHOOK_* settings, not the endpoint's keys or
secrets, so it runs on machines that hold none of them (no Flask app is built).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import click

from app.automations import install as install_automations
from app.automations.runner import AutomationRunner
from app.cli.instance import load_config
from app.db import Database
from app.delivery.outcomes import OutcomePolicy
from app.delivery.schedule import RetryPolicy
from app.delivery.ssrf import parse_networks
from app.delivery.transport import AttemptSettings
from app.delivery.worker import Worker, WorkerSettings
from app.errors import ConfigError
from app.media.worker import MediaWorker
from app.settings_check import Need, problems, report


def _option(name: str, default: float, help_: str, kind: type = float) -> click.Option:
    env = "FLOWGATE_WORKER_" + name.upper().replace("-", "_")
    return click.option(
        f"--{name}",
        type=kind,
        default=default,
        envvar=env,
        show_default=True,
        help=help_ + f" [{env}]",
    )


@click.command("worker")
@_option("concurrency", 8, "Attempts in flight at once.", int)
@_option("lease", 90.0, "Seconds a claim is held before another worker may retry it.")
@_option("poll", 1.0, "Seconds between looks at the outbox when idle.")
@_option("timeout", 30.0, "Total deadline of one attempt, seconds (connect, send, read).")
@_option("connect-timeout", 10.0, "Connect timeout, seconds.")
@_option("disable-after", 120.0, "Hours of continuous failure before an endpoint is disabled.")
@_option("throttle-floor", 60.0, "Least delay, seconds, after 429/502/504 or a timeout.")
@click.option("--drain", is_flag=True, help="Exit when no pending delivery is left.")
@_option("metrics-port", 0, "Serve this worker's Prometheus metrics on this port (0: off).", int)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    envvar="FLOWGATE_WORKER_METRICS_HOST",
    show_default=True,
    help="Address of the metrics port [FLOWGATE_WORKER_METRICS_HOST]",
)
@click.option("--metrics-textfile", default=None, envvar="FLOWGATE_WORKER_METRICS_TEXTFILE",
              help="Rewrite this file with the metrics (node_exporter textfile collector) "
              "[FLOWGATE_WORKER_METRICS_TEXTFILE]")  # fmt: skip
def worker_command(
    concurrency: int,
    lease: float,
    poll: float,
    timeout: float,
    connect_timeout: float,
    disable_after: float,
    throttle_floor: float,
    drain: bool,
    metrics_port: int,
    metrics_host: str,
    metrics_textfile: str | None,
) -> None:
    """Deliver webhooks from the outbox (run one or more; stop with SIGTERM).

    The same process runs automations: rules and scheduled messages (docs/automations.md).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    config = load_config()
    found = problems(config, (Need.DATABASE,))  # the worker needs no secret and no key
    if found:
        raise click.ClickException(report(found, config))
    try:
        settings = WorkerSettings(
            concurrency=concurrency,
            lease_seconds=lease,
            poll_interval=poll,
            attempt=AttemptSettings(
                connect_timeout=connect_timeout,
                deadline=timeout,
                allow=parse_networks(config.webhook_allow_networks),
            ),
            outcome=OutcomePolicy(
                RetryPolicy(config.webhook_retry_schedule, throttle_floor=throttle_floor),
                disable_after=timedelta(hours=disable_after),
            ),
        )
    except (ValueError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    db = Database.from_config(config)
    worker = Worker(db, settings)
    worker.install_signal_handlers()
    automations = AutomationRunner(db, config)  # rules and scheduled messages (app/automations)
    install_automations()  # statuses of automated sends update them
    click.echo(f"worker {settings.owner}: delivering (concurrency {concurrency})", err=True)
    from app.ops import worker_exposition  # docs/operations.md

    exposition = worker_exposition.start(metrics_port or None, metrics_host, metrics_textfile)
    # Uploaded files are fetched by the same process, in their own threads, for as long as
    # delivery runs (with --drain too: they release the held flow.submitted events that
    # delivery waits for; docs/media.md).
    media = MediaWorker.from_config(db, config)
    media_thread = threading.Thread(target=media.run, name="media")
    media_thread.start()
    try:
        if drain:
            automations.run(drain=True)
        else:
            automations.start()
        stats = worker.run(drain=drain)
    finally:
        media.stop()
        media_thread.join()
        automations.stop()
        automations.join(timeout=60)
        exposition.stop()
        db.dispose()
    click.echo(
        f"worker stopped: {stats.claimed} claimed, {stats.delivered} delivered, "
        f"{stats.recorded} recorded",
        err=True,
    )
