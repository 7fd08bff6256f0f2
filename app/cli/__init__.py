"""The `flowgate` command: a Flask CLI group over the app factory.

`flowgate run` and `flowgate routes` come from Flask; every other command lives in the module
of its area and is added here. Commands that prepare an instance (`init`, `db upgrade`,
`keys ...`) do not build the app, so they work before its secrets and keys exist.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.cli import export, flows, inbox, instance, keys, schemas, simulate, tokens
from app.cli import webhooks as webhooks_cli
from app.cli import worker as worker_cli


def _create_app() -> Flask:
    """Build the app for a command; a configuration problem is a one-line CLI error."""
    from app.errors import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


cli = FlaskGroup(
    create_app=_create_app,
    load_dotenv=False,  # app.config reads .env itself, with the precedence it documents
    help="Flowgate: WhatsApp Flows backend. See README.md.",
)
cli.add_command(instance.init_command)
cli.add_command(instance.db_group)
cli.add_command(keys.keys_group)
cli.add_command(export.export_command)
cli.add_command(flows.flows_group)
cli.add_command(schemas.schemas_group)
cli.add_command(inbox.inbox_group)
cli.add_command(tokens.tokens_group)
cli.add_command(simulate.simulate_command)
cli.add_command(webhooks_cli.webhooks_group)
cli.add_command(worker_cli.worker_command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="flowgate")
