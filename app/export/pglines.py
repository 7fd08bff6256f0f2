"""PostgreSQL: the server cuts each batch's cells out of the jsonb; Python guards and quotes.

Why: turning every stored answer into Python objects and back into text cost about 3x the
database's own CSV export. Here one query per keyset batch (same order, size and key as
`query.batches`) returns the batch as ONE text value: every cell as PostgreSQL has it (the
fixed columns, `fields ->> name` per field column, the time as `to_char` writes it), cells
joined by `SEP`, rows by `ROW_END SEP`. Python then adds the formula guard (one regular
expression), doubles the quotes and puts in the separators and CRLF line ends (C-level
`str.replace`), on the whole batch at once as `batch._quote_all` does.

`->>` gives a string's own text, and for other values their jsonb text: the same cell as
`cells.encode` for strings, booleans, nulls and absent keys (empty) and for numbers whose text
Python's `repr` writes alike: integers (up to Python's 4,300-digit limit) and decimals of at
most 15 digits without trailing zeros, from 0.0001 up (`float` of them round-trips and `repr`
keeps them positional). Cells the text alone cannot vouch for are re-encoded from the stored
JSON by `batch.csv_text`, the Python encoder itself: any cell starting with `[` or `{` (an
object, an array, or a string that looks like one), any number-shaped cell outside those forms
(`1.50`, `0.00001`, 16 digits; or a string that looks like one), any row with a line over
4,300 characters, and, when the `extra` column exists, every row with undeclared keys (the
server writes `{` as a placeholder). A batch with `SEP` or `ROW_END` inside a cell (counted,
as `batch.py` counts NUL) goes through `batch.csv_text` whole. So every byte is the Python
encoder's, by construction or by re-encoding; tests/export/test_pglines.py compares the two on
hostile values.

PostgreSQL text cannot hold NUL and jsonb refuses lone surrogates (`\\ud800`), so neither can
reach this path; the guard still lists NUL like `cells.DANGEROUS_FIRST`.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from functools import reduce
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy import literal_column as sql
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from app.export.batch import FIXED, csv_text
from app.export.cells import BLANK_THEN_OPERATOR, DANGEROUS_FIRST, PREFIX
from app.export.query import SubmissionFilter
from app.models import Submission

NOT_NULL = (0, 1, 5, 6)  # id, submitted_at, source, status: never NULL

SEP = "\x01"
ROW_END = "\x02"
ROWS = ROW_END + SEP  # between two rows of the server's text
LONGEST = 4300  # digits of the longest integer Python reads (sys.int_info)
_DANGEROUS = "[" + re.escape("".join(DANGEROUS_FIRST)) + "]"
_STARTS = "(?=" + _DANGEROUS + "|" + BLANK_THEN_OPERATOR + ")"
_GUARD = re.compile(SEP + _STARTS)
_GUARD_FIRST = re.compile(_STARTS)
# A decimal `repr` may write otherwise: two or more fraction digits, or over 15 digits in all.
# Each hit is then checked against the full rule.
_DECIMAL = re.compile(r"\.(?:[0-9]{2,}|(?<=[0-9]{15}\.)[0-9])(?=[\x01\x02]|\Z)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")  # jsonb's text of a decimal
_REPR_SAFE = re.compile(
    r"-?(?=[0-9.]{3,16}\Z)"
    r"(?:[1-9][0-9]*\.(?:[0-9]*[1-9]|0)|0\.(?:0|0{0,3}[1-9](?:[0-9]*[1-9])?))\Z"
)
_CONTAINER = re.compile(SEP + r"[\[{]")


def quote(text: str) -> str:
    """Whole rows of the server's text -> their CSV lines, as `batch._quote_all` makes them."""
    text = _GUARD.sub(SEP + PREFIX, text)
    if _GUARD_FIRST.match(text):
        text = PREFIX + text
    text = text.replace('"', '""').replace(ROWS, '"\r\n"').replace(SEP, '","')
    return '"' + text + '"\r\n'


def suspects(text: str, longest: int) -> list[int]:
    """The positions (0-based) of the rows in `text` the Python encoder must write."""
    starts: list[int] = []
    if "[" in text or "{" in text:
        starts += (m.start() + 1 for m in _CONTAINER.finditer(text))
        if text[:1] in "[{":
            starts.append(0)
    for match in _DECIMAL.finditer(text):
        begin = max(
            text.rfind(SEP, 0, match.start()) + 1, text.rfind(ROW_END, 0, match.start()) + 1
        )
        cell = text[begin : match.end()]
        if _NUMBER.match(cell) and not _REPR_SAFE.match(cell):
            starts.append(begin)
    rows = {text.count(ROW_END, 0, start) for start in starts}
    if longest > LONGEST:
        rows.update(i for i, line in enumerate(text.split(ROWS)) if len(line) > LONGEST)
    return sorted(rows)


class PgLines:
    """The CSV text of every batch of one export, on PostgreSQL (see module docstring)."""

    def __init__(
        self,
        session: Session,
        filters: SubmissionFilter,
        names: Sequence[str],
        *,
        extra: bool,
        fixed: Sequence[Any],
        fields: Any,
        stored: Any,
        size: int,
    ) -> None:
        """`fixed`: the seven fixed column expressions as `csvfile` selects them; `fields`: the
        jsonb to cut cells from; `stored`: the same as JSON text, for the Python encoder."""
        self.session, self.filters, self.names, self.extra = session, filters, names, extra
        self.size = size
        self.width = FIXED + len(names) + extra
        table = Submission.__table__.c
        self.order = (type_coerce(table.submitted_at, NullType()), table.id)
        self.fixed, self.fields = fixed, fields
        self.python_columns = (*fixed, stored)
        self.key = tuple_(
            bindparam("at", type_=DateTime(timezone=True)), bindparam("id", type_=String())
        )

    def _after(self, first: bool) -> list[Any]:
        return [*self.filters.conditions(), *([] if first else [tuple_(*self.order) > self.key])]

    def _statement(self, first: bool) -> Any:
        """One batch: its lines as one text, its size, the key of its last row (when full)
        and the length of its longest line."""
        table = Submission.__table__.c
        rank = func.row_number().over(order_by=self.order)
        fixed, fields = list(self.fixed), self.fields
        at, ident = table.submitted_at, table.id
        if fields is not table.fields:  # computed per row (first touch): compute it once
            source = (
                select(*(c.label(f"c{i}") for i, c in enumerate(fixed)), fields.label("f"))
                .add_columns(at.label("at"), ident.label("ident"), rank.label("rank"))
                .where(*self._after(first))
                .order_by(*self.order)
                .limit(self.size)
                .subquery("source")
            )
            fixed, fields = [source.c[f"c{i}"] for i in range(FIXED)], source.c.f
            at, ident, rank = source.c.at, source.c.ident, source.c.rank
        values = [fields.op("->>")(cast(literal(n), Text)) for n in self.names]
        cells = [c if i in NOT_NULL else func.coalesce(c, sql("''")) for i, c in enumerate(fixed)]
        cells += [func.coalesce(value, sql("''")) for value in values]
        if self.extra:
            undeclared = fields.op("-")(cast(list(self.names), ARRAY(Text)))
            cells.append(
                case(
                    (func.jsonb_typeof(fields) != "object", sql("''")),
                    (undeclared == sql("'{}'::jsonb"), sql("''")),
                    else_=sql("'{'"),  # a placeholder: the Python encoder writes this row
                )
            )
        line = reduce(lambda a, b: a.op("||")(sql("chr(1)")).op("||")(b), cells).label("line")
        lines = select(line, at.label("at"), ident.label("ident"), rank.label("rank"))
        if fields is self.fields:  # straight from the table: this is the batch query
            lines = lines.where(*self._after(first)).order_by(*self.order).limit(self.size)
        batch = lines.subquery("batch")
        last = batch.c.rank == self.size
        return select(
            func.string_agg(
                batch.c.line, aggregate_order_by(sql("chr(2) || chr(1)"), batch.c.rank)
            ),
            func.count(),
            func.max(batch.c.at).filter(last),
            func.max(batch.c.ident).filter(last),
            func.max(func.octet_length(batch.c.line)),
        )

    def chunks(self) -> Iterator[tuple[str, int]]:
        """(CSV lines, row count) per batch, oldest first; nothing when nothing matches.

        A reader thread runs the queries, one batch ahead, so the server cuts the next batch
        while this thread quotes the current one (the two were the whole cost, one after the
        other). Only that thread uses the session until the last batch is read.
        """
        ahead: queue.Queue[Any] = queue.Queue(maxsize=2)
        stop = threading.Event()
        # A daemon: a reader abandoned without closing this generator must not hold up exit.
        worker = threading.Thread(
            target=self._read, args=(ahead, stop), name="export-read", daemon=True
        )
        worker.start()
        try:
            while (item := ahead.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                parts, count = item
                yield (
                    "".join(quote(p) if p.__class__ is str else self._python(p) for p in parts),
                    count,
                )
        finally:
            stop.set()
            while worker.is_alive():  # let it finish its query and stop
                with contextlib.suppress(queue.Empty):
                    ahead.get(timeout=0.05)
            worker.join()

    def _read(self, ahead: queue.Queue[Any], stop: threading.Event) -> None:
        """Every batch, as CSV text and the rows Python must write (see `_parts`)."""
        try:
            statement, key = self._statement(True), {}
            following = self._statement(False)
            while not stop.is_set():
                text, count, at, ident, longest = self.session.execute(statement, key).one()
                if count:
                    ahead.put((self._parts(text, count, longest, key), count))
                if count < self.size:
                    break
                statement, key = following, {"at": at, "id": ident}
        except BaseException as exc:  # handed to the reading thread, which raises it
            ahead.put(exc)
        ahead.put(None)

    def _parts(self, text: str, count: int, longest: int, key: dict[str, Any]) -> list[Any]:
        """The batch as runs of the server's text (for `quote`) and lists of rows the Python
        encoder must write, in order."""
        if text.count(ROW_END) != count - 1 or text.count(SEP) != count * self.width - 1:
            # a cell holds SEP or ROW_END: let Python write the batch
            return [self._batch(self.python_columns, key)]
        redo = suspects(text, longest)
        if not redo:
            return [text]
        ids = [row[0] for row in self._batch((Submission.__table__.c.id,), key)]
        rows = self._rows_by_id([ids[i] for i in redo])
        lines = text.split(ROWS)
        parts: list[Any] = []
        done = 0
        for index, row in zip(redo, rows, strict=True):
            if index > done:
                parts.append(ROWS.join(lines[done:index]))
            parts.append([row])
            done = index + 1
        if done < count:
            parts.append(ROWS.join(lines[done:]))
        return parts

    def _python(self, rows: Sequence[Sequence[Any]]) -> str:
        return csv_text(rows, self.names, formatted=True, extra=self.extra)

    def _batch(self, columns: Sequence[Any], key: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """`columns` of the batch after `key` (same snapshot, same rows, same order)."""
        stmt = select(*columns).where(*self._after(not key)).order_by(*self.order)
        return self.session.execute(stmt.limit(self.size), key).all()

    def _rows_by_id(self, ids: list[str]) -> list[Sequence[Any]]:
        """The rows `batch.csv_text` reads, for these submissions, in this order."""
        table = Submission.__table__.c
        stmt = select(*self.python_columns).where(table.id.in_(ids))
        found = {row[0]: row for row in self.session.execute(stmt).all()}
        return [found[ident] for ident in ids]
