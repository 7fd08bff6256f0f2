"""Migration 0002: `submissions.flow` becomes nullable; down again names unrouted leads."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from app.db_migrations import alembic_config, upgrade

ROW = (
    "INSERT INTO submissions (id, flow, source, status, fields, errors, dedup_key, "
    "submitted_at, received_at) VALUES ('s1', NULL, 'webhook', 'unrouted', '{}', '[]', "
    "'message:w1', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def test_upgrade_stores_unrouted_leads_and_downgrade_keeps_them(database_url: str) -> None:
    upgrade(database_url, "0001")
    upgrade(database_url, "0002")
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(ROW))
        command.downgrade(alembic_config(database_url), "0001")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT flow, status FROM submissions")).one() == (
                "unrouted",
                "unrouted",
            )
        upgrade(database_url, "0002")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 1
    finally:
        engine.dispose()
