"""`flowgate tokens issue --flow F --wa-id N [--ttl SECONDS]`: print a new flow token alone."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.crypto.tokens import DEFAULT_TTL_SECONDS
from app.endpoint.issuing import issue_for_flow
from app.errors import InvalidRequest
from app.web import runtime


@click.group("tokens")
def tokens_group() -> None:
    """Flow tokens: signed, expiring, bound to one flow and one contact."""


@tokens_group.command("issue")
@click.option("--flow", required=True, help="Flow name (file stem in FLOWGATE_FLOWS_DIR).")
@click.option("--wa-id", "wa_id", required=True, help="The contact's WhatsApp id (digits).")
@click.option(
    "--ttl",
    type=int,
    default=DEFAULT_TTL_SECONDS,
    show_default=True,
    help="Lifetime in seconds (72 h by default; Meta advises 2-3 days).",
)
@with_appcontext
def issue(flow: str, wa_id: str, ttl: int) -> None:
    """Print the token alone on stdout (for scripts)."""
    rt = runtime()
    try:
        issued = issue_for_flow(
            rt.registry, rt.config.token_secret, flow=flow, wa_id=wa_id, ttl_seconds=ttl
        )
    except InvalidRequest as exc:
        details = exc.details or {}
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in details.items())
        raise click.ClickException(f"{exc.message}: {reasons}") from None
    click.echo(issued.flow_token)
