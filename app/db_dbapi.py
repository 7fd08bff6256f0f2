"""Write transactions on a pooled DB-API connection, for the Flow data endpoint's hot path.

Why: for the endpoint's BEGIN, SELECT, UPDATE and COMMIT, SQLAlchemy Core's per-statement
machinery (events, compiled-cache lookups, result objects) cost more CPU than the database
work itself (bench/README.md, "Flow data endpoint: CPU per request"). Here the statements
are Core statements compiled once per dialect to SQL text and run on the DB-API cursor,
with the column types' own bind and result processors, so what is stored is what Core would
store. DB-API errors are raised as SQLAlchemy's exception classes (`IntegrityError`, ...).

No pre-ping: on PostgreSQL the connection comes from the pool without the `SELECT 1` round
trip (app/db.py). A connection that turns out dead on the transaction's first statement,
before anything was done, is invalidated and `StaleConnection` raised; the caller runs the
transaction again on a checkout that pings. Any other failure rolls back and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement

if TYPE_CHECKING:
    from app.db import Database

Processor = Callable[[Any], Any]


class StaleConnection(Exception):
    """The pooled connection was dead before the transaction did anything: run it again."""


@dataclass(frozen=True)
class Prepared:
    """A Core statement as SQL text for one dialect, with its parameters' processors."""

    sql: str
    order: tuple[str, ...] | None  # parameter names for a positional paramstyle, else None
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[tuple[int, Processor], ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        binds = []
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((name, process))
        results = []
        for index, column in enumerate(getattr(statement, "selected_columns", ())):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                results.append((index, process))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(compiled.string, order, tuple(binds), tuple(results))

    def parameters(self, values: dict[str, Any]) -> Any:
        """The driver's parameters from `values` (a fresh dict the call converts in place)."""
        for name, process in self.binds:
            values[name] = process(values[name])
        return values if self.order is None else tuple(values[name] for name in self.order)

    def row(self, found: Any) -> tuple[Any, ...] | None:
        """A fetched row with the result processors applied (JSON decoded on SQLite)."""
        if found is None or not self.results:
            return found
        out = list(found)
        for index, process in self.results:
            out[index] = process(out[index])
        return tuple(out)


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

    def fetch_one(self, statement: ClauseElement, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a prepared SELECT (result processors applied), or None."""
        prepared = self._db.prepared(statement)
        self._run(prepared.sql, prepared.parameters(values))
        return prepared.row(self._cursor.fetchone())

    def execute(self, statement: ClauseElement, values: dict[str, Any]) -> None:
        prepared = self._db.prepared(statement)
        self._run(prepared.sql, prepared.parameters(values))

    def connection(self) -> Connection:
        """A Core Connection on this transaction's DB-API connection (BEGIN already done)."""
        if self._core is None:
            core = Connection(self._db.engine, connection=self._fairy)
            core.execution_options(sqlite_begin=None)  # in a transaction already (app/db.py)
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
