"""Alembic, driven from Python: `flowgate db upgrade`, `flowgate init` and the tests use it.

The migration scripts live in the top-level migrations/ folder (docs/contract.md's layout).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration for `database_url`, with no alembic.ini needed."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at `database_url` to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
