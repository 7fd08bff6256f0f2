"""`flowgate flows ...`: Flow JSON definitions in FLOWGATE_FLOWS_DIR.

`validate` and `list` check flows without the app (no keys, secrets or database), so they
work in CI and in editors before an instance exists; `validate` lives in app/cli/validate.py
so that its fast path imports neither Flask nor SQLAlchemy. `push`, `publish`, `status` and
`preview` talk to Meta's Flows API (docs/flows.md); their module loads on first use.
"""

from __future__ import annotations

import importlib

import click

from app.cli.validate import light_config, validate_command
from app.flowjson.registry import FlowRegistry

# name -> ("module:attribute", the first sentence of its help, as `flowgate flows --help` lists it)
META_COMMANDS: dict[str, tuple[str, str]] = {
    "push": (
        "app.cli.metaflows:push_command",
        "Create or update flow NAME on Meta and upload its Flow JSON.",
    ),
    "publish": ("app.cli.metaflows:publish_command", "Publish flow NAME on Meta."),
    "status": (
        "app.cli.metaflows:status_command",
        "Show Meta's status, validation errors and health of flow NAME.",
    ),
    "preview": ("app.cli.metaflows:preview_command", "Print the preview URL of flow NAME."),
}


class FlowsGroup(click.Group):
    """The Meta commands are imported only when used (or shown with their own help)."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in META_COMMANDS and name not in self.commands:
            module, _, attribute = META_COMMANDS[name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *META_COMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or click.Command(name, help=META_COMMANDS[name][1])
            rows.append((name, command.get_short_help_str(formatter.width - 20)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group("flows", cls=FlowsGroup)
def flows_group() -> None:
    """Flow JSON definitions in FLOWGATE_FLOWS_DIR."""


flows_group.add_command(validate_command)


@flows_group.command("list")
def list_command() -> None:
    """List the flows: served or not, endpoint or not, which schema judges their
    submissions (file: schemas/<name>.json, derived: from the Flow JSON) and finding counts."""
    config = light_config()
    registry = FlowRegistry.load(config.flows_dir, config.schemas_dir)
    for definition in registry.all():
        errors = sum(1 for f in definition.findings if f.is_error)
        warnings = len(definition.findings) - errors
        state = "served" if definition.valid else "NOT SERVED"
        kind = "endpoint" if definition.endpoint_powered else "no-endpoint"
        schema = f"schema:{definition.schema_source or 'none'}"
        click.echo(
            f"{definition.name}\t{state}\t{kind}\t{schema}\t{errors} error(s)\t"
            f"{warnings} warning(s)"
        )


@flows_group.command("health")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the health documents as JSON.")
def health_command(names: tuple[str, ...], as_json: bool) -> None:
    """Each endpoint flow's health over Meta's windows, with Meta's alerts (docs/operations.md)."""
    from app.cli.health import show_health

    show_health(names, as_json)
