"""`flowgate webhooks add|list|disable|enable|remove|rotate-secret|test`: the endpoints that
receive signed events, managed as through `/api/v1/webhook-endpoints` (docs/delivery.md).

They need only the database (and the FLOWGATE_WEBHOOK_* settings), not the endpoint's keys
or Meta's app secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from app.cli.needs import command_runtime
from app.delivery import subscriptions as core
from app.delivery.probe import send_probe
from app.delivery.ssrf import parse_networks
from app.delivery.transport import DELIVERED, AttemptSettings
from app.errors import FlowgateError
from app.models import WebhookEndpoint


@click.group("webhooks")
def webhooks_group() -> None:
    """Endpoints that receive signed flow.submitted webhooks."""


def _secret_lines(endpoint: WebhookEndpoint) -> None:
    click.echo(f"id:     {endpoint.id}")
    click.echo(f"url:    {endpoint.url}")
    click.echo(f"events: {', '.join(endpoint.events)}")
    click.echo(f"secret: {endpoint.secret}")


@webhooks_group.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    help="Event type to receive (repeatable; default flow.submitted; * for all).",
)
@click.option("--description", default=None, help="A note for operators.")
def add(url: str, events: tuple[str, ...], description: str | None) -> None:
    """Register URL (checked by the SSRF guard) and print its id and secret (shown once)."""
    rt = command_runtime()
    guard = core.Guard(allow=parse_networks(rt.config.webhook_allow_networks))
    try:
        with rt.db.transaction() as session:
            endpoint = core.create_endpoint(
                session, url, list(events) or None, description=description, guard=guard
            )
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None
    _secret_lines(endpoint)
    click.echo("Store the secret now: it is not shown again (rotate it through the API).", err=True)


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(as_json: bool) -> None:
    """Every endpoint with its state (secrets are never listed)."""
    with command_runtime().db.session() as session:
        rows = [core.endpoint_to_dict(e) for e in core.list_endpoints(session)[0]]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        state = "enabled" if row["enabled"] else f"disabled ({row['disabled_reason']})"
        click.echo(f"{row['id']}  {state}  {','.join(row['events'])}  {row['url']}")
    if not rows and not as_json:
        click.echo("no webhook endpoints; add one with `flowgate webhooks add URL`", err=True)


def _change(endpoint_id: str, change: Callable[[Session, str], WebhookEndpoint | None]) -> None:
    """Apply `change` in one transaction; an unknown id is a clean error."""
    try:
        with command_runtime().db.transaction() as session:
            change(session, endpoint_id)
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None


@webhooks_group.command("disable")
@click.argument("endpoint_id", metavar="ID")
def disable(endpoint_id: str) -> None:
    """Stop delivering to ID; its pending deliveries wait until it is enabled."""
    _change(endpoint_id, lambda s, i: core.set_enabled(s, i, False))
    click.echo(f"{endpoint_id} disabled")


@webhooks_group.command("enable")
@click.argument("endpoint_id", metavar="ID")
def enable(endpoint_id: str) -> None:
    """Deliver to ID again (its failure run starts afresh)."""
    _change(endpoint_id, lambda s, i: core.set_enabled(s, i, True))
    click.echo(f"{endpoint_id} enabled")


@webhooks_group.command("remove")
@click.argument("endpoint_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(endpoint_id: str, yes: bool) -> None:
    """Delete ID with its deliveries and their attempt log."""
    if not yes:
        click.confirm(f"Remove {endpoint_id} and its delivery history?", abort=True)
    _change(endpoint_id, core.delete_endpoint)
    click.echo(f"{endpoint_id} removed")


@webhooks_group.command("rotate-secret")
@click.argument("endpoint_id", metavar="ID")
def rotate(endpoint_id: str) -> None:
    """Print a new secret for ID (shown once); the old one also signs for 24 hours."""
    try:
        with command_runtime().db.transaction() as session:
            endpoint = core.rotate_secret(session, endpoint_id)
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None
    _secret_lines(endpoint)
    click.echo(
        "Store the new secret now. Events carry both signatures for 24 hours, then only the new.",
        err=True,
    )


@webhooks_group.command("test")
@click.argument("endpoint_id", metavar="ID")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds.")
def test(endpoint_id: str, timeout: float) -> None:
    """Send a signed webhook.test event to ID now and show the answer (exit 1 unless 2xx)."""
    rt = command_runtime()
    try:
        with rt.db.session() as session:
            endpoint = core.get_endpoint(session, endpoint_id)
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None
    settings = AttemptSettings(
        connect_timeout=min(timeout, 10.0),
        deadline=timeout,
        allow=parse_networks(rt.config.webhook_allow_networks),
    )
    result = send_probe(endpoint, settings)
    status = f"HTTP {result.status_code}" if result.status_code else "no answer"
    click.echo(f"webhook.test to {endpoint.url}: {status} in {result.duration_ms} ms")
    if result.snippet:
        click.echo(f"body: {result.snippet}")
    if result.outcome != DELIVERED:
        raise click.ClickException(result.error or f"not delivered ({result.outcome})")
