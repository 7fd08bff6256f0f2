"""Database engine and sessions, plain SQLAlchemy (no Flask).

SQLite is the embedded default: WAL so readers never block the writer, a busy timeout so
concurrent writers wait instead of failing, foreign keys on. PostgreSQL is how a deployment
grows to several app servers and workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ClauseElement

from app.database_url import normalise_database_url
from app.db_dbapi import DBAPITransaction, Prepared
from app.private_files import private_sqlite_file

# Set while `Database.dbapi_transaction` takes a connection that it may skip pinging.
_NO_PING: ContextVar[bool] = ContextVar("flowgate_no_ping", default=False)


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(normalise_database_url(url))
        if self.url.get_backend_name() == "sqlite":
            engine_options.setdefault("connect_args", {}).setdefault("timeout", 30)
            if self.url.database and self.url.database != ":memory:":
                private_sqlite_file(Path(self.url.database))  # 0600 (app/private_files.py)
        pre_ping = not self.is_sqlite and engine_options.pop("pool_pre_ping", True)
        self.engine: Engine = create_engine(self.url, **engine_options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        if pre_ping:
            _ping_on_checkout(self.engine)
        self._prepared: dict[ClauseElement, Prepared] = {}
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

    def dbapi_transaction(self, *, ping: bool = False) -> DBAPITransaction:
        """The same write transaction on the DB-API connection, for the endpoint's hot path.

        Prebuilt statements on the cursor (app/db_dbapi.py); the connection is taken without
        the pre-ping unless `ping`, which a caller asks for when it runs a transaction again
        after `StaleConnection`.
        """
        flag = _NO_PING.set(not ping)
        try:
            fairy = self.engine.raw_connection()
        except self.engine.dialect.loaded_dbapi.Error as err:
            raise exc.DBAPIError.instance(
                None, None, err, self.engine.dialect.loaded_dbapi.Error, dialect=self.engine.dialect
            ) from err
        finally:
            _NO_PING.reset(flag)
        return DBAPITransaction(self, fairy)  # a context manager: BEGIN on enter, COMMIT on exit

    def prepared(self, statement: ClauseElement) -> Prepared:
        """`statement` compiled for this database once (SQL text and processors)."""
        found = self._prepared.get(statement)
        if found is None:
            found = self._prepared[statement] = Prepared.compile(statement, self.engine.dialect)
        return found

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
    """Deferred BEGIN for readers (a WAL snapshot, no lock); IMMEDIATE for writers.

    None: the connection's transaction was begun on the DB-API connection (app/db_dbapi.py).
    """
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    if mode is not None:
        conn.exec_driver_sql(f"BEGIN {mode}")


def _ping_on_checkout(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, as pool events, skippable per checkout (`_NO_PING`).

    Same behaviour as the built-in: a connection just opened is not pinged; a ping that fails
    with a disconnect invalidates the pool's older connections and reconnects
    (https://docs.sqlalchemy.org/en/20/core/pooling.html#disconnect-handling-pessimistic).
    """
    dialect: Dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["flowgate_fresh"] = True

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("flowgate_fresh", False) or _NO_PING.get():
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise exc.InvalidatePoolError() from err
            raise
