"""Database engine and sessions, plain SQLAlchemy (no Flask).

SQLite is the embedded default: WAL so readers never block the writer, a busy timeout so
concurrent writers wait instead of failing, foreign keys on. PostgreSQL is how a deployment
grows to several app servers and workers.

The Flow data endpoint's hot path runs its write transaction on the DB-API connection instead
(`Database.dbapi_transaction`, `DBAPITransaction`): for its BEGIN, SELECT, UPDATE and COMMIT,
SQLAlchemy Core's per-statement machinery (events, compiled-cache lookups, result objects)
cost more CPU than the database work itself (bench/README.md, "Flow data endpoint: CPU per
request"). Its statements are `app.prepared.Prepared` statements, as on the Meta webhook's
path: Core statements compiled once per dialect to SQL text and run on the cursor with the
column types' own bind and result processors, so what is stored is what Core would store;
DB-API errors are raised as SQLAlchemy's exception classes.

That transaction takes its PostgreSQL connection without the pool's pre-ping round trip. A
connection that turns out dead on the first statement, before anything was done, is
invalidated and `StaleConnection` raised; the caller runs the transaction again on a checkout
that pings. Any other failure rolls back and propagates.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from app.database_url import normalise_database_url
from app.prepared import Prepared
from app.private_files import private_sqlite_file

if TYPE_CHECKING:
    from app.config import Config

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
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool, but SQLite transactions start with BEGIN IMMEDIATE (see `_sqlite_begin`).
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    @classmethod
    def from_config(cls, config: Config) -> Database:
        """The database of `config`, with its pool sizes (an in-memory SQLite has no pool)."""
        options: dict[str, Any] = {}
        url = make_url(normalise_database_url(config.database_url))
        if url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:"):
            options = {"pool_size": config.db_pool_size, "max_overflow": config.db_max_overflow}
        return cls(config.database_url, **options)

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

    def dbapi_transaction(self, *, ping: bool = False) -> DBAPITransaction:
        """The same write transaction on the DB-API connection, for the endpoint's hot path.

        Prebuilt statements on the cursor (`DBAPITransaction`); the connection is taken without
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

    None: the connection's transaction was begun on the DB-API connection (`DBAPITransaction`).
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


class StaleConnection(Exception):
    """The pooled connection was dead before the transaction did anything: run it again."""


class DBAPITransaction:
    """One write transaction on one pooled DB-API connection (see the module docstring).

    SQLite's transaction starts with BEGIN IMMEDIATE (the write lock), as `Database.transaction`;
    psycopg opens PostgreSQL's with the first statement. `connection()` gives a Core
    Connection inside the same transaction for the rare work that needs the ORM.
    """

    def __init__(self, db: Database, fairy: PoolProxiedConnection) -> None:
        self._db = db
        self._fairy = fairy
        self.dialect: Dialect = db.engine.dialect
        self.is_postgresql = self.dialect.name == "postgresql"
        self._cursor = fairy.cursor()
        self._core: Connection | None = None
        self._done = False  # a statement has completed: a dead connection is no longer retried

    def __enter__(self) -> DBAPITransaction:
        if self._db.is_sqlite:
            try:
                self._run("BEGIN IMMEDIATE", ())
            except BaseException:
                self._fairy.close()
                raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        """Commit on success, else roll back; the connection always goes back to the pool."""
        self._end(commit=exc_type is None)

    def fetch_one(self, statement: Prepared, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a prepared SELECT (result processors applied), or None."""
        compiled = statement.compiled_for(self.dialect)
        self._run(compiled.sql, compiled.args(values))
        return compiled.row(self._cursor.fetchone())

    def execute(self, statement: Prepared, values: dict[str, Any]) -> None:
        compiled = statement.compiled_for(self.dialect)
        self._run(compiled.sql, compiled.args(values))

    def connection(self) -> Connection:
        """A Core Connection on this transaction's DB-API connection (BEGIN already done)."""
        if self._core is None:
            core = Connection(self._db.engine, connection=self._fairy)
            core.execution_options(sqlite_begin=None)  # in a transaction already
            core.begin()
            self._core = core
            self._done = True  # its statements are not tracked here: no retry after them
        return self._core

    def _run(self, sql: str, parameters: Any) -> None:
        try:
            self._cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as err:
            raise self._wrapped(err, sql, parameters) from err
        self._done = True

    def _wrapped(self, err: Exception, sql: str | None, parameters: Any) -> Exception:
        dbapi_connection = self._fairy.dbapi_connection
        disconnect = self.dialect.is_disconnect(err, dbapi_connection, self._cursor)
        if disconnect:
            self._fairy.invalidate(err)
            if not self._done:
                return StaleConnection(str(err))
        return exc.DBAPIError.instance(
            sql,
            parameters,
            err,
            self.dialect.loaded_dbapi.Error,
            connection_invalidated=disconnect,
            dialect=self.dialect,
        )

    def _commit(self) -> None:
        if self._core is not None:
            transaction = self._core.get_transaction()
            if transaction is not None:
                transaction.commit()
            return
        try:
            self._fairy.commit()
        except self.dialect.loaded_dbapi.Error as err:
            self._done = True  # a commit's outcome is unknown: never retried
            raise self._wrapped(err, "COMMIT", None) from err

    def _end(self, commit: bool) -> None:
        try:
            if commit:
                self._commit()
        finally:
            # Back to the pool, whose reset-on-return rolls back whatever was not committed.
            (self._core or self._fairy).close()
