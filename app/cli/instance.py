"""`flowgate init` and `flowgate db upgrade`."""

from __future__ import annotations

from pathlib import Path

import click

from app.config import Config
from app.db_migrations import upgrade
from app.errors import ConfigError
from app.instance import init_instance
from app.instance_env import EnvReport, ensure_development_env


def load_config() -> Config:
    """Settings for a command, with configuration problems shown as a clean CLI error."""
    try:
        return Config.load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("init")
def init_command() -> None:
    """Create the instance folder, keys and secrets that are missing, then migrate."""
    config = load_config()
    report = init_instance(config)
    env_report = ensure_development_env(Path(".env"), config) if config.development else None
    config = load_config()  # pick up what init just wrote
    upgrade(config.database_url)
    for item in report.created:
        click.echo(f"created {item}")
    for item in report.kept:
        click.echo(f"kept    {item}")
    click.echo(f"database migrated ({config.database_url.split('://')[0]})")
    if env_report is not None:
        _echo_env(env_report)
    if not config.api_tokens:
        click.echo(
            "admin API closed: no FLOWGATE_API_TOKENS (set one to use /api/v1 and the dashboard)",
            err=True,
        )


def _echo_env(report: EnvReport) -> None:
    """Say what init did to .env; the new admin token is shown this once."""
    if report.foreign:
        click.echo(f"kept    {report.path} (not written by init: left as it is)")
    elif report.added:
        click.echo(f"wrote   {report.path}: {', '.join(report.added)}")
    if report.api_token:
        click.echo(f"admin API token (shown once; also in {report.path}): {report.api_token}")


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to FLOWGATE_DATABASE_URL."""
    config = load_config()
    upgrade(config.database_url, revision)
    click.echo(f"database at {revision}")
