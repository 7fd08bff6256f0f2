"""Prebuilt statements run straight on the driver's cursor, for the two hot paths.

Used by the Meta webhook's notification processing and, through `DBAPITransaction` in
app/db.py, by the Flow data endpoint's session transaction. Why: on the Meta webhook path
(bench/ingest.py) each statement through `Connection.execute`
cost about 130 us of Python on SQLite against about 35 us on the driver's cursor (cache-key
lookup, execution context, events, result set-up), and a notification runs about nine of them.
A `Prepared` statement is compiled by SQLAlchemy once per dialect; each run applies the same
bind and result processors SQLAlchemy would (the columns' types: UTC timestamps, JSON) and
turns driver errors into SQLAlchemy's exceptions (`IntegrityError` stays an
`IntegrityError`), inside the caller's transaction on the caller's connection.

Not for statements with expanding (`IN`) parameters, or with column defaults SQLAlchemy would
have to compute (refused when compiled): every value is passed explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL text for one dialect, with its parameters' and results' processors."""

    sql: str
    order: tuple[str, ...] | None  # positional drivers (sqlite3): the bind names in order
    slots: tuple[tuple[str, str | None, Any, Processor | None], ...]
    results: tuple[Processor | None, ...]

    def args(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters for `params`, converted as SQLAlchemy would."""
        values = {}
        for name, key, fixed, processor in self.slots:
            value = params[key] if key is not None else fixed
            values[name] = value if processor is None else processor(value)
        return values if self.order is None else [values[name] for name in self.order]

    def row(self, raw: Any) -> tuple[Any, ...] | None:
        """A fetched row (or None) with the result processors applied."""
        if raw is None:
            return None
        if not any(self.results):
            return tuple(raw)
        return tuple(v if p is None else p(v) for p, v in zip(self.results, raw, strict=False))


class Prepared:
    """One statement compiled once per dialect and executed on the DBAPI cursor."""

    def __init__(self, statement: ClauseElement, returning: Sequence[Any] | None = None) -> None:
        self.statement = statement
        # The result columns (or their types), in order; a SELECT's own columns by default.
        if returning is None:
            returning = getattr(statement, "selected_columns", ())
        self.returning = tuple(returning)
        self._compiled: dict[str, Compiled] = {}

    def compiled_for(self, dialect: Dialect) -> Compiled:
        """The statement compiled for `dialect`, once."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect)
            if compiled.insert_prefetch or compiled.update_prefetch:
                raise ValueError("Prepared statements take every value explicitly")
            slots = []  # (rendered name, caller's key or None, fixed value, processor)
            for bind, name in compiled.bind_names.items():
                if bind.expanding or bind.callable is not None:
                    raise ValueError("Prepared statements take plain parameters only")
                processor = bind.type._cached_bind_processor(dialect)
                # a required parameter comes from the caller; the others are literals
                key = bind.key if bind.required else None
                slots.append((name, key, bind.value, processor))
            results = tuple(
                getattr(c, "type", c)._cached_result_processor(dialect, None)
                for c in self.returning
            )
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = Compiled(compiled.string, order, tuple(slots), results)
            self._compiled[dialect.name] = found
        return found

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with `params`; the rows it returns (a query, RETURNING), processed by type."""
        c = self.compiled_for(conn.dialect)
        raw = _on_cursor(conn, c.sql, lambda cursor: cursor.execute(c.sql, c.args(params)), True)
        return [c.row(row) for row in raw]  # type: ignore[misc]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run with `params`, without reading a result (in `pipelined`: without waiting)."""
        c = self.compiled_for(conn.dialect)
        _on_cursor(conn, c.sql, lambda cursor: cursor.execute(c.sql, c.args(params)), False)

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set (the driver's executemany), no result."""
        c = self.compiled_for(conn.dialect)
        args = [c.args(p) for p in params]
        _on_cursor(conn, c.sql, lambda cursor: cursor.executemany(c.sql, args), False)


def _on_cursor(conn: Connection, sql: str, call: Callable[[Any], Any], fetch: bool) -> list[Any]:
    """`call` on a fresh cursor of `conn`'s driver connection, then its rows when `fetch`;
    driver errors come out as SQLAlchemy's (`_wrapped`), and the cursor is always closed."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        call(cursor)
        return list(cursor.fetchall()) if fetch else []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn.dialect, sql, exc) from exc
    finally:
        cursor.close()


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, `Prepared.run` inside the block sends without waiting for the answer;
    the block's end waits for all of them: one round trip (psycopg's pipeline mode).

    For statements whose results nobody reads, in the caller's transaction; an error of any
    of them is raised at the block's end (as SQLAlchemy's exception), and the transaction is
    then aborted as it would be by the statement itself. Elsewhere a no-op.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    driver = conn.connection.dbapi_connection
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            yield
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn.dialect, "(pipeline)", exc) from exc


def _wrapped(dialect: Dialect, sql: str, exc: Exception) -> Exception:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, ...).

    Parameters are never part of the message: they may hold flow tokens.
    """
    return DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
    )


_CONNECTION = "flowgate.connection"


def connection(session: Session) -> Connection:
    """`session.connection()` (beginning the transaction if needed), looked up once per
    transaction: on this path the session's own lookup cost as much as a statement."""
    held = session.info.get(_CONNECTION)
    transaction = session.get_transaction()
    if held is not None and held[0] is transaction and transaction.is_active:
        return held[1]
    conn = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), conn)
    return conn


def attach_loaded(session: Session, cls: type[T], values: dict[str, Any]) -> T:
    """A row a prepared statement just wrote, handed to `session` as a loaded instance.

    The same as `cls(**values)` then `make_transient_to_detached` and `session.add`, without
    an attribute event per column: the values go straight into the instance's state, which
    is then marked unchanged.
    """
    mapper = inspect(cls)
    if not mapper.configured:
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    instance_state(instance).dict.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance
