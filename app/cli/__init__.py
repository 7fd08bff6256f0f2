"""The `flowgate` command: a Flask CLI group over the app factory.

`flowgate run` and `flowgate routes` come from Flask; every other command lives in the module
of its area and is registered in `COMMANDS` below. Commands that prepare an instance (`init`,
`db upgrade`, `keys ...`) do not build the app, so they work before its secrets and keys exist.

Why lazy: importing every area's command module (and with them the emulator, alembic, the API
schemas...) cost about 0.8 s on every call. A command's module is now imported only when that
command runs or shows its own help, and `flowgate --help` lists commands without importing any
of them and without building the app (Flask's group builds it to list `app.cli` commands;
Flowgate registers none there, and in production building it needs every secret).

Why a fast path: `flowgate flows validate` runs in pre-commit hooks and editors on every save.
`main` sends it (and `flowgate --version`) straight to its command without importing Flask,
SQLAlchemy or the app; the Flask group (app/cli/group.py, `cli` here) is built only for the
other commands.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

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
    "media": (
        "app.cli.media:media_group",
        "Files uploaded through PhotoPicker and DocumentPicker.",
    ),
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


def flowgate_version() -> str:
    """Flowgate's own version (the installed distribution), not Flask's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowgate")
    except PackageNotFoundError:
        return "unknown"


def __getattr__(name: str) -> Any:
    """`app.cli.cli` (the Flask group) is built on first access, not on import."""
    if name in ("cli", "LazyFlaskGroup"):
        from app.cli import group

        return getattr(group, name)
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point, with the fast paths of the module docstring."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:2] == ["flows", "validate"]:
        from app.cli.validate import validate_command

        validate_command.main(args[2:], prog_name="flowgate flows validate")
    elif args == ["--version"]:
        click.echo(f"flowgate {flowgate_version()}")
    else:
        from app.cli.group import cli
        from app.logs import configure_from_environment

        configure_from_environment()
        cli.main(args, prog_name="flowgate")
