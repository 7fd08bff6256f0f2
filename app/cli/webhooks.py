"""`flowgate webhooks add URL [--event ...]` and `flowgate webhooks list`."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.delivery import subscriptions as core
from app.delivery.ssrf import parse_networks
from app.errors import FlowgateError
from app.web import runtime


@click.group("webhooks")
def webhooks_group() -> None:
    """Endpoints that receive signed flow.submitted webhooks."""


@webhooks_group.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    help="Event type to receive (repeatable; default flow.submitted; * for all).",
)
@click.option("--description", default=None, help="A note for operators.")
@with_appcontext
def add(url: str, events: tuple[str, ...], description: str | None) -> None:
    """Register URL (checked by the SSRF guard) and print its id and secret (shown once)."""
    rt = runtime()
    guard = core.Guard(allow=parse_networks(rt.config.webhook_allow_networks))
    try:
        with rt.db.transaction() as session:
            endpoint = core.create_endpoint(
                session, url, list(events) or None, description=description, guard=guard
            )
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"id:     {endpoint.id}")
    click.echo(f"url:    {endpoint.url}")
    click.echo(f"events: {', '.join(endpoint.events)}")
    click.echo(f"secret: {endpoint.secret}")
    click.echo("Store the secret now: it is not shown again (rotate it through the API).", err=True)


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def list_(as_json: bool) -> None:
    """Every endpoint with its state (secrets are never listed)."""
    with runtime().db.session() as session:
        rows = [core.endpoint_to_dict(e) for e in core.list_endpoints(session)[0]]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        state = "enabled" if row["enabled"] else f"disabled ({row['disabled_reason']})"
        click.echo(f"{row['id']}  {state}  {','.join(row['events'])}  {row['url']}")
    if not rows and not as_json:
        click.echo("no webhook endpoints; add one with `flowgate webhooks add URL`", err=True)
