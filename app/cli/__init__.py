"""The `flowgate` command: a Flask CLI group over the app factory.

`flowgate run` and `flowgate routes` come from Flask; every other command lives in the module
of its area and is registered in `COMMANDS` below. Commands that prepare an instance (`init`,
`db upgrade`, `keys ...`) do not build the app, so they work before its secrets and keys exist.

Why lazy: importing every area's command module (and with them the emulator, alembic, the API
schemas...) cost about 0.8 s on every call. A command's module is now imported only when that
command runs or shows its own help, and `flowgate --help` lists commands without importing any
of them and without building the app (Flask's group builds it to list `app.cli` commands;
Flowgate registers none there, and in production building it needs every secret).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

# name -> ("module:attribute", the first sentence of its help, as `flowgate --help` lists it).
# tests/foundation/test_cli_lazy.py checks both against the real commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "app.cli.instance:init_command",
        "Create the instance folder, keys and secrets that are missing, then migrate.",
    ),
    "db": ("app.cli.instance:db_group", "Database schema."),
    "keys": (
        "app.cli.keys:keys_group",
        "The RSA-2048 key pair WhatsApp encrypts endpoint requests to.",
    ),
    "export": (
        "app.cli.export:export_command",
        "Export submissions as CSV (same filters and format as GET /api/v1/submissions.csv).",
    ),
    "flows": ("app.cli.flows:flows_group", "Flow JSON definitions in FLOWGATE_FLOWS_DIR."),
    "schemas": (
        "app.cli.schemas:schemas_group",
        "Submission JSON Schemas in FLOWGATE_SCHEMAS_DIR.",
    ),
    "inbox": ("app.cli.inbox:inbox_group", "Stored Meta webhook notifications."),
    "tokens": (
        "app.cli.tokens:tokens_group",
        "Flow tokens: signed, expiring, bound to one flow and one contact.",
    ),
    "simulate": (
        "app.cli.simulate:simulate_command",
        "Walk FLOW through the endpoint at URL, printing each screen and its data.",
    ),
    "webhooks": (
        "app.cli.webhooks:webhooks_group",
        "Endpoints that receive signed flow.submitted webhooks.",
    ),
    "links": (
        "app.cli.links:links_group",
        "wa.me links (and QR codes) that make customers write first.",
    ),
    "worker": (
        "app.cli.worker:worker_command",
        "Deliver webhooks from the outbox (run one or more; stop with SIGTERM).",
    ),
}


def load_command(target: str) -> click.Command:
    """The command object named by "module:attribute"."""
    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyFlaskGroup(FlaskGroup):
    """Flask's CLI group with `COMMANDS` imported on first use (see the module docstring)."""

    def __init__(self, *, lazy_commands: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lazy_commands = dict(lazy_commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands and name not in self.commands:
            self.add_command(load_command(self.lazy_commands[name][0]), name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Flask's, plugin and lazy commands, without building the app."""
        self._load_plugin_commands()  # entry-point commands, as FlaskGroup lists them
        return sorted({*click.Group.list_commands(self, ctx), *self.lazy_commands})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's command list; a command not imported yet is shown by its `COMMANDS` help."""
        shown: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None and name in self.lazy_commands:
                command = click.Command(name, help=self.lazy_commands[name][1])  # help only
            if command is not None and not command.hidden:
                shown.append((name, command))
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in shown])


def _create_app() -> Flask:
    """Build the app for a command; a configuration problem is a one-line CLI error."""
    from app import create_app
    from app.errors import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


cli = LazyFlaskGroup(
    lazy_commands=COMMANDS,
    create_app=_create_app,
    load_dotenv=False,  # app.config reads .env itself, with the precedence it documents
    help="Flowgate: WhatsApp Flows backend. See README.md.",
)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="flowgate")
