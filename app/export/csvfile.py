"""The submissions CSV: one consistent snapshot, written batch by batch.

Columns: submission_id, submitted_at, flow, wa_id, contact_name, source, status, then one
column per field: each exported flow's schema properties in schema order (flows by name,
first occurrence wins), then, when any exported row has fields no schema declares, one
`extra` column holding a row's undeclared fields as compact JSON (so one lead with 50,000
keys cannot give every row 50,000 columns; docs/api.md). A field whose name equals a fixed
column or `extra` is headed `field:<name>` so every header is unique.

The whole export reads one snapshot: on SQLite the session's deferred BEGIN in WAL mode pins
the snapshot at the first read; on PostgreSQL the transaction is REPEATABLE READ, READ ONLY.
The header's field discovery, the progress estimate and every batch therefore agree even
while leads keep arriving. Memory is one batch of rows plus one batch of CSV text (on
PostgreSQL up to four batches of text: the server cuts the cells of the next ones while
Python quotes the current one, app/export/pglines.py; same bytes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Text, case, cast, func, literal, select, text, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from app.export import query
from app.export.batch import csv_text
from app.export.cells import cell
from app.export.pglines import PgLines
from app.export.query import SubmissionFilter
from app.export.raw import unguarded
from app.flowjson.registry import FlowRegistry
from app.leads.firsttouch import COLUMNS as FIRST_TOUCH
from app.leads.firsttouch import first_touch_present, merged_jsonb, with_first_touch
from app.models import Submission

FIXED_COLUMNS = (
    "submission_id",
    "submitted_at",
    "flow",
    "wa_id",
    "contact_name",
    "source",
    "status",
)
EXTRA_COLUMN = "extra"  # the fields no exported flow's schema declares, as compact JSON
BOM = "\ufeff"
BATCH_SIZE = 2000
_PG_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def schema_fields(registry: FlowRegistry, flow: str) -> list[str]:
    """The property names of `flow`'s submission schema (file or derived), in order.

    [] for an unknown flow or a schema without `properties`: its fields then all count as
    "seen".
    """
    definition = registry.get(flow)
    schema = definition.schema if definition is not None else None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return [str(name) for name in properties] if isinstance(properties, dict) else []


def field_keys(session: Session, filters: SubmissionFilter, known: Sequence[str] = ()) -> set[str]:
    """The keys of `fields` among the matching rows other than `known`, found by the
    database in one pass (PostgreSQL drops the known keys first, which is several times
    cheaper than listing them all)."""
    if session.get_bind().dialect.name == "postgresql":
        values: Any = Submission.fields
        if known:
            values = values.op("-")(cast(list(known), postgresql.ARRAY(Text)))
        stmt = select(func.jsonb_object_keys(values)).where(*filters.conditions()).distinct()
    else:
        stmt = _sqlite_keys(filters, Submission.fields)
        try:
            return {str(key) for key in session.scalars(stmt)} - set(known)
        except DBAPIError:
            # A row SQLite cannot read as JSON (e.g. `NaN` stored by Python's json) must not
            # sink the whole export: skip such rows here (their cells still come out, via
            # Python's parser). The failed statement leaves the snapshot open.
            guarded = case((func.json_valid(Submission.fields) == 1, Submission.fields), else_="{}")
            stmt = _sqlite_keys(filters, guarded)
    return {str(key) for key in session.scalars(stmt)} - set(known)


def _sqlite_keys(filters: SubmissionFilter, values: Any) -> Any:
    each = func.json_each(values).table_valued("key").alias("field_key")
    stmt = select(each.c.key).select_from(Submission).join(each, text("1 = 1"))
    return stmt.where(*filters.conditions()).distinct()


class SubmissionCsv:
    """One export. Build it on a fresh session; `chunks()` yields the CSV text."""

    def __init__(
        self,
        session: Session,
        registry: FlowRegistry,
        filters: SubmissionFilter,
        *,
        excel: bool = False,
        batch_size: int = BATCH_SIZE,
        raw: bool = False,
        python_only: bool = False,
    ) -> None:
        self.raw = raw  # no spreadsheet guard: for machines only (app/export/raw.py)
        # Every cell through batch.py even on PostgreSQL: the reference pglines.py is
        # tested against (same bytes, slower).
        self.python_only = python_only
        self.session = session
        self.registry = registry
        self.filters = filters
        self.excel = excel
        self.batch_size = batch_size
        self.rows_written = 0
        self._begin_snapshot()
        self.fields, self.extra = self._field_columns()
        self.first_touch = first_touch_present(session)  # app/leads/firsttouch.py
        if self.first_touch:
            self.fields += [c for c in FIRST_TOUCH if c not in self.fields]

    def _begin_snapshot(self) -> None:
        if self.session.in_transaction():
            raise RuntimeError("SubmissionCsv needs a session without an open transaction")
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self.session.execute(text("SET TRANSACTION READ ONLY"))
        # SQLite: the first read below starts the deferred transaction and pins the snapshot.

    def _field_columns(self) -> tuple[list[str], bool]:
        """The schema columns, and whether an `extra` column is needed."""
        flows = (
            [self.filters.flow] if self.filters.flow else query.flows(self.session, self.filters)
        )
        ordered: dict[str, None] = {}
        for flow in flows:
            ordered.update(dict.fromkeys(schema_fields(self.registry, flow)))
        seen = field_keys(self.session, self.filters, list(ordered))
        return list(ordered), bool(seen - ordered.keys())

    def header(self) -> list[str]:
        taken = {*FIXED_COLUMNS, EXTRA_COLUMN}
        names = [f"field:{name}" if name in taken else name for name in self.fields]
        extra = [EXTRA_COLUMN] if self.extra else []
        return [cell(name) for name in (*FIXED_COLUMNS, *names, *extra)]

    def estimate(self) -> int:
        """The number of rows this export will write (same snapshot, so exact)."""
        return query.count(self.session, self.filters)

    def encoded(self) -> Iterator[bytes]:
        """`chunks()` as UTF-8. Text that is not valid Unicode (an escaped lone surrogate in
        stored JSON) is written as `?` rather than failing halfway through a download."""
        for chunk in unguarded(self.chunks()) if self.raw else self.chunks():
            yield chunk.encode("utf-8", "replace")

    def chunks(self) -> Iterator[str]:
        """The BOM (if asked), the header line, then one chunk of lines per batch."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(self.header())
        yield (BOM if self.excel else "") + _take(buffer)
        names = self.fields
        pg = self.session.get_bind().dialect.name == "postgresql"
        table = Submission.__table__.c
        # Raw driver values: the type layer's per-row conversions cost more than the CSV.
        raw_at = type_coerce(table.submitted_at, NullType())
        if pg:  # the server formats the time (datetime objects cost more than the text)
            stamp = func.to_char(func.timezone("UTC", table.submitted_at), _PG_ISO)
            at: Any = func.replace(stamp, ".000000Z", "Z")  # microseconds only when non-zero
            fields: Any = cast(table.fields, Text)
        else:  # stored as text, sliced in Python (cheaper than SQLite's string functions)
            at, fields = raw_at, type_coerce(table.fields, NullType())
        if self.first_touch:
            fields = with_first_touch(fields, pg)
        columns = (table.id, at, table.flow, table.wa_id, table.contact_name, table.source)
        if pg and not self.python_only:  # the server cuts the cells, Python quotes (pglines.py)
            lines = PgLines(
                self.session,
                self.filters,
                names,
                extra=self.extra,
                fixed=(*columns, table.status),
                fields=merged_jsonb() if self.first_touch else table.fields,
                stored=fields,
                size=self.batch_size,
            )
            for text, count in lines.chunks():
                self.rows_written += count
                yield text
            return
        batches = query.batches(
            self.session,
            self.filters,
            (*columns, table.status, fields),
            size=self.batch_size,
            order=(raw_at, table.id),
            key=_pg_key if pg else _sqlite_key,
        )
        for rows in batches:
            self.rows_written += len(rows)
            yield csv_text(rows, names, formatted=pg, extra=self.extra)


def _sqlite_key(row: Sequence[Any]) -> tuple[Any, Any]:
    return row[1], row[0]  # the stored text compares as stored


def _pg_key(row: Sequence[Any]) -> tuple[Any, Any]:
    """The ISO text read back as timestamptz: exact to the microsecond, like the column."""
    return cast(literal(row[1], Text), postgresql.TIMESTAMP(timezone=True)), row[0]


def _take(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return value
