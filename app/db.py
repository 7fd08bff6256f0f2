"""Database engine and sessions, plain SQLAlchemy (no Flask).

SQLite is the embedded default: WAL so readers never block the writer, a busy timeout so
concurrent writers wait instead of failing, foreign keys on. PostgreSQL is how a deployment
grows to several app servers and workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.database_url import normalise_database_url
from app.private_files import private_sqlite_file


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(normalise_database_url(url))
        if self.url.get_backend_name() == "sqlite":
            engine_options.setdefault("connect_args", {}).setdefault("timeout", 30)
            if self.url.database and self.url.database != ":memory:":
                private_sqlite_file(Path(self.url.database))  # 0600 (app/private_files.py)
        else:
            engine_options.setdefault("pool_pre_ping", True)
        self.engine: Engine = create_engine(self.url, **engine_options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool, but SQLite transactions start with BEGIN IMMEDIATE (see `_sqlite_begin`).
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def session(self) -> Session:
        """A new session; the caller commits or rolls back and closes it."""
        return self.sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on error.

        On SQLite it takes the write lock at BEGIN, so concurrent writers queue on the busy
        timeout instead of failing when a read inside the transaction upgrades to a write.
        """
        with self._writer() as session, session.begin():
            yield session

    def write_connection(self) -> Connection:
        """A pooled connection whose transactions are write transactions (as `transaction`).

        Statements run on its driver connection before any `begin` are autocommitted.
        """
        return self._write_engine.connect()

    @contextmanager
    def core_transaction(self) -> Iterator[Connection]:
        """The same write transaction on a Core connection, without an ORM session.

        For hot paths that run prebuilt Core statements: the session's begin, connection
        lookup and commit cost more than a SQLite statement (bench/endpoint_cpu.py). Code that
        needs the ORM inside it binds a Session to this connection (`Session(bind=conn)`).
        """
        with self._write_engine.begin() as conn:
            yield conn

    def ping(self) -> bool:
        """True when the database answers a trivial query (for /healthz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so BEGIN is issued by `_sqlite_begin`.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Deferred BEGIN for readers (a WAL snapshot, no lock); IMMEDIATE for writers."""
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
