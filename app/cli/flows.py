"""`flowgate flows validate [FILE...]` and `flowgate flows list`: check flows without the app.

Neither needs keys, secrets or a database: they read FLOWGATE_FLOWS_DIR / FLOWGATE_SCHEMAS_DIR
and the files given, so they work in CI and in editors before an instance exists.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.automations.checking import automations_findings, is_automations_file
from app.cli.instance import load_config
from app.flowjson.findings import Finding, Level
from app.flowjson.registry import FlowRegistry, load_definition
from app.flowjson.validator import validate_text


@click.group("flows")
def flows_group() -> None:
    """Flow JSON definitions in FLOWGATE_FLOWS_DIR."""


def _findings_for(path: Path, flows_dir: Path, schemas_dir: Path) -> list[Finding]:
    """A file in the flows folder is checked as the registry does (schema, handlers too);
    any other file as plain Flow JSON (a pywa-style container is split into documents)."""
    if path.resolve().parent == flows_dir.resolve() and path.suffix == ".json":
        return list(load_definition(path, schemas_dir / path.name).findings)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [
            Finding(
                "INVALID_FLOW_JSON",
                Level.ERROR,
                f"Cannot read the file: {exc}.",
                "",
                1,
                1,
                str(path),
            )
        ]
    return validate_text(text, str(path))


@flows_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: file:line:column: LEVEL CODE message (at /pointer); json: an array of findings.",
)
def validate_command(files: tuple[Path, ...], fmt: str) -> None:
    """Validate Flow JSON FILEs (default: every flow in FLOWGATE_FLOWS_DIR).

    Exit status 0 when there is no error (warnings allowed), 1 otherwise.
    """
    config = load_config()
    paths = list(files) or sorted(config.flows_dir.glob("*.json"))
    if not files and config.automations_file.exists():  # the rules file is checked too
        paths = [*paths, config.automations_file]
    findings: list[Finding] = []
    paths = list(dict.fromkeys(paths))
    for path in paths:
        if is_automations_file(path, config.automations_file):
            findings += automations_findings(path, config)
            continue
        findings += _findings_for(path, config.flows_dir, config.schemas_dir)
    errors = sum(1 for f in findings if f.is_error)
    if fmt == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(finding.format())
    click.echo(
        f"{len(paths)} file(s) checked: {errors} error(s), {len(findings) - errors} warning(s)",
        err=True,
    )
    if errors:
        raise SystemExit(1)


@flows_group.command("list")
def list_command() -> None:
    """List the flows with whether they are served and their finding counts."""
    config = load_config()
    registry = FlowRegistry.load(config.flows_dir, config.schemas_dir)
    for definition in registry.all():
        errors = sum(1 for f in definition.findings if f.is_error)
        warnings = len(definition.findings) - errors
        state = "served" if definition.valid else "NOT SERVED"
        kind = "endpoint" if definition.endpoint_powered else "no-endpoint"
        click.echo(f"{definition.name}\t{state}\t{kind}\t{errors} error(s)\t{warnings} warning(s)")
