"""`flowgate init` and `flowgate db upgrade`."""

from __future__ import annotations

import click

from app.config import Config
from app.db_migrations import upgrade
from app.errors import ConfigError
from app.instance import init_instance


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
    config = load_config()  # pick up what init just wrote
    upgrade(config.database_url)
    for item in report.created:
        click.echo(f"created {item}")
    for item in report.kept:
        click.echo(f"kept    {item}")
    click.echo(f"database migrated ({config.database_url.split('://')[0]})")


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
