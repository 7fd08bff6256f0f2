"""The instance folder is 0700 and the SQLite database files 0600 (docs/leads.md)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from app.config import Config
from app.db import Database
from app.instance import init_instance


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_instance_and_database(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: plain files would be 0644, folders 0755
    try:
        instance = tmp_path / "deploy" / "instance"
        config = Config.load(
            {"FLOWGATE_ENV": "development", "FLOWGATE_INSTANCE_PATH": str(instance)},
            environ={},
            dotenv_path=None,
        )
        init_instance(config)
        db = Database(config.database_url)
        try:
            with db.transaction() as session:  # WAL mode: -wal and -shm appear
                session.execute(text("CREATE TABLE t (x TEXT)"))
                session.execute(text("INSERT INTO t VALUES ('secret')"))
            files = sorted(p.name for p in instance.iterdir() if "sqlite3" in p.name)
            assert files == ["flowgate.sqlite3", "flowgate.sqlite3-shm", "flowgate.sqlite3-wal"]
            for name in files:
                assert mode(instance / name) == 0o600, name
        finally:
            db.dispose()
        assert mode(instance) == 0o700
    finally:
        os.umask(old)


def test_an_existing_readable_database_is_reported_not_changed(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    Database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o644
    assert "chmod 600" in caplog.text
