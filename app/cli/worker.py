"""`flowgate worker`: deliver webhooks from the outbox until SIGTERM.

It needs only the database and the FLOWGATE_WEBHOOK_* settings, not the endpoint's keys or
secrets, so it runs on machines that hold none of them (no Flask app is built).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import click

from app.automations.runner import AutomationRunner
from app.cli.instance import load_config
from app.db import Database
from app.delivery.outcomes import OutcomePolicy
from app.delivery.schedule import RetryPolicy
from app.delivery.ssrf import parse_networks
from app.delivery.transport import AttemptSettings
from app.delivery.worker import Worker, WorkerSettings
from app.errors import ConfigError


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
def worker_command(
    concurrency: int,
    lease: float,
    poll: float,
    timeout: float,
    connect_timeout: float,
    disable_after: float,
    throttle_floor: float,
    drain: bool,
) -> None:
    """Deliver webhooks from the outbox (run one or more; stop with SIGTERM).

    The same process runs automations: rules and scheduled messages (docs/automations.md).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    config = load_config()
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
    db = Database(config.database_url)
    worker = Worker(db, settings)
    worker.install_signal_handlers()
    automations = AutomationRunner(db, config)  # rules and scheduled messages (app/automations)
    click.echo(f"worker {settings.owner}: delivering (concurrency {concurrency})", err=True)
    try:
        if drain:
            automations.run(drain=True)
        else:
            automations.start()
        stats = worker.run(drain=drain)
    finally:
        automations.stop()
        automations.join(timeout=60)
        db.dispose()
    click.echo(
        f"worker stopped: {stats.claimed} claimed, {stats.delivered} delivered, "
        f"{stats.recorded} recorded",
        err=True,
    )
