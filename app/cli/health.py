"""`flowgate flows health [NAME...]`: the health check from the command line.

Reads the rollup every app process writes (no app server needed, only the database) and
records a status change like the API does. Exit status 0 when every flow shown is ok, 1 when
one is warning, 2 when one is critical (usable from cron or a monitoring check).
"""

from __future__ import annotations

import json

import click

from app.cli.instance import load_config
from app.db import Database
from app.flowjson.registry import FlowRegistry
from app.ops.health import LEVELS
from app.ops.transitions import evaluate


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def show_health(names: tuple[str, ...], as_json: bool) -> None:
    config = load_config()
    registry = FlowRegistry.load(config.flows_dir, config.schemas_dir)
    unknown = [n for n in names if registry.get(n) is None]
    if unknown:
        raise click.ClickException(f"no flow named {', '.join(unknown)}")
    chosen = list(names) or [d.name for d in registry.all() if d.endpoint_powered]
    db = Database.from_config(config)
    try:
        docs = [evaluate(db, name, config) for name in chosen]
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(docs, indent=2))
    for doc in [] if as_json else docs:
        click.echo(
            f"{doc['flow']}\t{doc['status'].upper()}\tp90 {_fmt(doc['latency_p90_ms'], ' ms')}"
            f"\terrors {_fmt(_pct(doc['error_rate']), ' %')}"
            f"\tavailability {_fmt(_pct(doc['availability']), ' %')}"
            f"\t{doc['requests']} requests in {doc['window_minutes']} min"
        )
        for reason in doc["reasons"]:
            click.echo(f"  {reason['level']}: {reason['rule']} = {reason['value']}")
        for alert in doc["alerts"]:
            mark = "" if alert["matched"] else " (Flow id not in FLOWGATE_META_FLOW_IDS)"
            click.echo(f"  Meta alert {alert['event']} active since {alert['activated_at']}{mark}")
        for alert in doc["cleared_alerts"]:
            click.echo(f"  Meta alert {alert['event']} cleared at {alert['deactivated_at']}")
    worst = max((LEVELS[d["status"]] for d in docs), default=0)
    if worst:
        raise SystemExit(worst)
