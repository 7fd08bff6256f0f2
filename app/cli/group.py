"""The Flask CLI group behind `flowgate` (see app/cli/__init__.py for the lazy commands).

Flask's own group options that do not apply are dropped: `-A/--app` (Flowgate always builds
its own app) and `-e/--env-file` (app.config reads .env itself, with its documented
precedence); `--version` prints Flowgate's version, not Flask's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.cli import COMMANDS, flowgate_version, load_command

_DROPPED = frozenset({"app", "env_file", "version"})


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"flowgate {flowgate_version()}")
        ctx.exit()


class LazyFlaskGroup(FlaskGroup):
    """Flask's CLI group with `COMMANDS` imported on first use (see the module docstring)."""

    def __init__(self, *, lazy_commands: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lazy_commands = dict(lazy_commands)
        self.params = [p for p in self.params if p.name not in _DROPPED]
        self.params.append(
            click.Option(
                ["--version"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_print_version,
                help="Show Flowgate's version and exit.",
            )
        )

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
