"""`flowgate flows push|publish|status|preview NAME`: Meta's Flows API (docs/flows.md).

They need FLOWGATE_ACCESS_TOKEN and FLOWGATE_WABA_ID (push also FLOWGATE_PUBLIC_URL for
endpoint-powered flows) and a migrated database, where Meta's flow ids are kept; not the
app's secrets or keys. Meta's refusals are one-line errors naming Meta's code and message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from app.cli.validate import light_config
from app.config import Config
from app.db import Database
from app.errors import FlowgateError
from app.flowjson.reports import FORMATS, render
from app.messaging.flow_ids import stored
from app.metaflows.api import FlowsApi
from app.metaflows.push import CATEGORIES, endpoint_uri_for, push, record_status
from app.metaflows.remote import remote_findings


@contextmanager
def _meta(config: Config) -> Iterator[tuple[FlowsApi, Database]]:
    """The API client and database; every expected failure becomes a one-line CLI error."""
    database = Database.from_config(config)
    try:
        yield FlowsApi.from_config(config), database
    except FlowgateError as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error ({type(exc).__name__}); run `flowgate db upgrade` first?"
        ) from None
    finally:
        database.dispose()


def _flow_id(api: FlowsApi, database: Database, name: str) -> str:
    """Meta's id of `name`: the stored one, else a Flow of that name on the account."""
    with database.session() as session:
        row = stored(session, str(api.waba_id), name)
        if row is not None:
            return row.meta_flow_id
    found = api.find_by_name(name)
    if found is None or not isinstance(found.get("id"), str):
        raise click.ClickException(f"{name} is not on Meta yet: run `flowgate flows push {name}`.")
    return str(found["id"])


@click.command("push")
@click.argument("name")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice(CATEGORIES),
    help="Meta category of a new Flow (repeatable; default OTHER).",
)
@click.option("--meta-name", default=None, help="The Flow's name on Meta (default: NAME).")
@click.option("--force", is_flag=True, help="Upload even when local validation finds errors.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def push_command(
    name: str, categories: tuple[str, ...], meta_name: str | None, force: bool, fmt: str
) -> None:
    """Create or update flow NAME on Meta and upload its Flow JSON.

    Validates locally first. Meta's validation errors are printed like `flows validate`
    (exit status 1 when there are any).
    """
    from app.flowjson.registry import load_definition

    config = light_config()
    path = config.flows_dir / f"{name}.json"
    if not path.is_file():
        raise click.ClickException(f"no flow {name!r}: {path} does not exist")
    definition = load_definition(path, config.schemas_dir / path.name)
    local_errors = [f for f in definition.findings if f.is_error]
    if local_errors and not force:
        click.echo(render(local_errors, fmt))
        raise click.ClickException(
            f"{name} has {len(local_errors)} error(s); fix them (or push with --force)."
        )
    with _meta(config) as (api, database):
        uri = endpoint_uri_for(config, definition)
        result = push(
            api, database, definition, uri, meta_name=meta_name, categories=categories or ("OTHER",)
        )
    verb = "created" if result.created else "updated"
    click.echo(f"{verb} Flow {name} on Meta: id {result.meta_flow_id} (DRAFT)", err=True)
    if result.endpoint_uri:
        click.echo(f"endpoint_uri: {result.endpoint_uri}", err=True)
    click.echo(f"uploaded flow.json ({result.size} bytes)", err=True)
    if result.findings:
        click.echo(render(result.findings, fmt))
        click.echo(f"Meta reports {len(result.findings)} validation error(s)", err=True)
        raise SystemExit(1)
    click.echo(f"Meta reports no validation errors; next: flowgate flows publish {name}", err=True)


@click.command("publish")
@click.argument("name")
def publish_command(name: str) -> None:
    """Publish flow NAME on Meta.

    Publishing is final: a published Flow's JSON cannot be changed (push a new Flow).
    """
    config = light_config()
    with _meta(config) as (api, database):
        flow_id = _flow_id(api, database, name)
        api.publish(flow_id)
        status = api.get(flow_id, "id,status").get("status")
        record_status(database, str(api.waba_id), name, status if isinstance(status, str) else None)
    click.echo(f"published Flow {name} (id {flow_id}): status {status}")


@click.command("status")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def status_command(name: str, fmt: str) -> None:
    """Show Meta's status, validation errors and health of flow NAME."""
    config = light_config()
    with _meta(config) as (api, database):
        flow_id = _flow_id(api, database, name)
        info = api.get(flow_id)
        status = info.get("status")
        record_status(database, str(api.waba_id), name, status if isinstance(status, str) else None)
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
        return
    health = info.get("health_status") if isinstance(info.get("health_status"), dict) else {}
    errors = (
        info.get("validation_errors") if isinstance(info.get("validation_errors"), list) else []
    )
    click.echo(f"flow:      {name} (Meta id {flow_id}, name {info.get('name')!s})")
    click.echo(f"status:    {status}")
    click.echo(f"version:   {info.get('json_version')} (data API {info.get('data_api_version')})")
    if info.get("endpoint_uri"):
        click.echo(f"endpoint:  {info.get('endpoint_uri')}")
    click.echo(f"health:    can_send_message {health.get('can_send_message', 'unknown')}")
    for entity in health.get("entities") or []:
        if isinstance(entity, dict):
            why = "; ".join(
                str(e.get("error_description") or e.get("error_code"))
                for e in entity.get("errors") or []
                if isinstance(e, dict)
            )
            kind, where = entity.get("entity_type"), entity.get("id")
            line = f"  {kind} {where}: {entity.get('can_send_message')}"
            click.echo(line + (f" ({why})" if why else ""))
    click.echo(f"errors:    {len(errors)} validation error(s)")
    path = config.flows_dir / f"{name}.json"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    findings = remote_findings([e for e in errors if isinstance(e, dict)], text, str(path))
    if findings:
        click.echo(render(findings, "text"))


def _of(info: dict[str, Any], key: str, kind: type) -> Any:
    value = info.get(key)
    return value if isinstance(value, kind) else None


@click.command("preview")
@click.argument("name")
@click.option("--invalidate", is_flag=True, help="Ask Meta for a new link (the old one stops).")
def preview_command(name: str, invalidate: bool) -> None:
    """Print the preview URL of flow NAME.

    Open it in a browser to try the Flow as a user would.
    """
    config = light_config()
    with _meta(config) as (api, database):
        preview = api.preview(_flow_id(api, database, name), invalidate)
    click.echo(preview["preview_url"])
    if preview.get("expires_at"):
        click.echo(f"expires at {preview['expires_at']}", err=True)
