"""`flowgate schemas generate FLOW`: a submission JSON Schema derived from the flow."""

from __future__ import annotations

import json

import click

from app.cli.instance import load_config
from app.flowjson.loader import load_text
from app.flowjson.schema_gen import generate_schema


@click.group("schemas")
def schemas_group() -> None:
    """Submission JSON Schemas in FLOWGATE_SCHEMAS_DIR."""


@schemas_group.command("generate")
@click.argument("flow")
@click.option("--write", is_flag=True, help="Save as FLOWGATE_SCHEMAS_DIR/<FLOW>.json.")
@click.option("--force", is_flag=True, help="With --write: replace an existing schema.")
def generate_command(flow: str, write: bool, force: bool) -> None:
    """Print a draft 2020-12 schema of FLOW's submission, to refine by hand."""
    config = load_config()
    path = config.flows_dir / f"{flow}.json"
    if "/" in flow or "\\" in flow or not path.is_file():
        raise click.ClickException(f"no flow {flow!r} in {config.flows_dir}")
    loaded = load_text(path.read_text(encoding="utf-8"), str(path))
    if loaded.error is not None or not isinstance(loaded.data, dict):
        raise click.ClickException(
            f"{path} is not a Flow JSON object; run `flowgate flows validate`"
        )
    text = json.dumps(generate_schema(loaded.data, flow), indent=2) + "\n"
    if not write:
        click.echo(text, nl=False)
        return
    target = config.schemas_dir / f"{flow}.json"
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")
