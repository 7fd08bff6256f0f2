"""`flowgate flows validate`: check Flow JSON files without the app, fast enough for
pre-commit hooks and editors.

Nothing here imports Flask, SQLAlchemy or the app: `flowgate flows validate` runs through
`app.cli.main`'s fast path, which loads only this module, click and the validator
(docs/flow-validation.md, "Speed"). It needs no keys, secrets or database: it reads
FLOWGATE_FLOWS_DIR / FLOWGATE_SCHEMAS_DIR and the files given.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import flowgate_version
from app.config import Config
from app.errors import ConfigError
from app.flowjson.findings import Finding, Level
from app.flowjson.reports import FORMATS, render
from app.flowjson.validator import validate_text


def light_config() -> Config:
    """Settings, with a configuration problem shown as a one-line CLI error."""
    try:
        return Config.load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _is_rules_file(path: Path, configured: Path) -> bool:
    """The automations rules file (the configured one, or any file named automations.json)."""
    try:
        same = path.resolve() == configured.resolve()
    except OSError:
        same = False
    return same or path.name == "automations.json"


def findings_for(path: Path, flows_dir: Path, schemas_dir: Path) -> list[Finding]:
    """A file in the flows folder is checked as the registry does (schema, handlers too);
    any other file as plain Flow JSON (a pywa-style container is split into documents)."""
    if path.resolve().parent == flows_dir.resolve() and path.suffix == ".json":
        # Handlers and schema: only here (plain files stay on the light path).
        from app.flowjson.registry import load_definition, schema_note

        definition = load_definition(path, schemas_dir / path.name)
        click.echo(f"{definition.name}: {schema_note(definition)}", err=True)
        return list(definition.findings)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"Cannot read the file: {exc}."
        return [Finding("INVALID_FLOW_JSON", Level.ERROR, message, "", 1, 1, str(path))]
    return validate_text(text, str(path))


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: file:line:column: LEVEL CODE message (at /pointer); json: an array of "
    "findings; github: workflow annotations; sarif: SARIF 2.1.0.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Treat warnings as errors (reported as ERROR, exit status 1): for CI.",
)
def validate_command(files: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Validate Flow JSON FILEs (default: every flow in FLOWGATE_FLOWS_DIR).

    Exit status 0 when there is no error (warnings allowed unless --strict), 1 otherwise.
    """
    config = light_config()
    paths = list(files) or sorted(config.flows_dir.glob("*.json"))
    if not files and config.automations_file.exists():  # the rules file is checked too
        paths = list(dict.fromkeys([*paths, config.automations_file]))
    findings: list[Finding] = []
    for path in paths:
        if _is_rules_file(path, config.automations_file):
            # Only here: the rules checker loads the flows it names (docs/automations.md).
            from app.automations.checking import automations_findings

            findings += automations_findings(path, config)
            continue
        findings += findings_for(path, config.flows_dir, config.schemas_dir)
    if strict:
        findings = [f.promoted() for f in findings]
    errors = sum(1 for f in findings if f.is_error)
    report = render(findings, fmt, flowgate_version() if fmt == "sarif" else "")
    if report:
        click.echo(report)
    click.echo(
        f"{len(paths)} file(s) checked: {errors} error(s), {len(findings) - errors} warning(s)",
        err=True,
    )
    if errors:
        raise SystemExit(1)
