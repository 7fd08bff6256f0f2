"""PostgreSQL: the server cuts each batch's cells out of the jsonb; Python guards and quotes.

Why: turning every stored answer into Python objects and back into text cost about 3x the
database's own CSV export. Here one query per keyset batch (same order, size and key as
`query.batches`) returns the batch as ONE text value: every cell as PostgreSQL has it (the
fixed columns, `fields ->> name` per column, the time as `to_char` writes it), each cell
followed by `SEP` and each row by `ROW_END SEP`, i.e. the layout `batch.py` builds before its
`_quote_all`. Python then applies the same formula guard and quoting to the whole batch with
one regular expression and three C-level `str.replace` calls.

`->>` gives a string's own text, and for other values their jsonb text: the same cell as
`cells.encode` for strings, booleans, nulls and absent keys (empty) and for numbers whose text
Python's `repr` writes alike (integers up to 18 digits; decimals of at most 15 digits without
trailing zeros, from 0.0001 up: `float` of them round-trips, `repr` keeps them positional).
Cells the text alone cannot vouch for are re-encoded from the stored JSON by `batch.csv_text`,
the Python encoder itself: any cell starting with `[` or `{` (an object, an array, or a string
that looks like one), any number-shaped cell outside the plain forms above (`1.50`, `0.00001`,
`1e+30`'s digits, a 20-digit integer; a string that looks like one too), and, when the `extra`
column exists, every row with undeclared keys (the server writes `{` as a placeholder). A
batch whose text holds `SEP` or `ROW_END` inside a cell (counted, as `batch.py` counts NUL)
goes through `batch.csv_text` whole. So every byte is the Python encoder's, by construction
or by re-encoding; tests/export/test_pglines.py compares the two on hostile values.

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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from app.export.batch import FIXED, csv_text
from app.export.cells import BLANK_THEN_OPERATOR, DANGEROUS_FIRST, PREFIX
from app.export.query import SubmissionFilter
from app.models import Submission

ROW_END = "\x02"
CUT = '","'  # between two cells, as the CSV has it
ROWS = ROW_END + CUT  # between two rows of the server's text
_DANGEROUS = "[" + re.escape("".join(DANGEROUS_FIRST)) + "]"
_STARTS = "(?=" + _DANGEROUS + "|" + BLANK_THEN_OPERATOR + ")"
_GUARD = re.compile(CUT + _STARTS)
_GUARD_FIRST = re.compile(_STARTS)
_END = '(?=",|' + ROW_END + "|$)"
# A decimal whose text `repr` may write otherwise: two or more fraction digits, or more than
# 15 digits in all; each hit is checked against the full rule below.
_DECIMAL = re.compile(r"\.(?:[0-9]{2,}|(?<=[0-9]{15}\.)[0-9])" + _END)
_PLAIN = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")  # number-shaped (jsonb's form)
_REPR_SAFE = re.compile(
    r"-?(?:[0-9]+|(?=[0-9.]{3,16}\Z)(?:[1-9][0-9]*\.(?:[0-9]*[1-9]|0)|0\.(?:0|0{0,3}[1-9](?:[0-9]*[1-9])?)))\Z"
)
_CONTAINER = re.compile(CUT + r"[\[{]")
LONGEST = (
    4300  # Python refuses to read integers of more digits (sys.int_info.str_digits_check_threshold)
)


def quote(text: str) -> str:
    """The server's batch text -> CSV lines: the formula guard, then the line ends."""
    text = _GUARD.sub(CUT + PREFIX, text)
    if _GUARD_FIRST.match(text):
        text = PREFIX + text
    return '"' + text.replace(ROWS, '"\r\n"') + '"\r\n'


def suspects(text: str, longest: int) -> list[int]:
    """The positions (0-based) of the rows of `text` the Python encoder must write."""
    starts: list[int] = []
    if "[" in text or "{" in text:
        starts += (m.start() + len(CUT) for m in _CONTAINER.finditer(text))
        if text[:1] in "[{":
            starts.append(0)
    for match in _DECIMAL.finditer(text):
        begin = max(text.rfind(CUT, 0, match.start()) + len(CUT), 0)
        cell = text[begin : match.end()]
        if _PLAIN.match(cell) and not _REPR_SAFE.match(cell):
            starts.append(begin)
    rows = {text.count(ROW_END, 0, start) for start in starts}
    if longest > LONGEST:
        lines = text.split(ROW_END)
        rows.update(i for i, line in enumerate(lines) if len(line) > LONGEST)
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
        cells = [*fixed, *(fields.op("->>")(cast(literal(n), Text)) for n in self.names)]
        cells = [
            func.replace(func.coalesce(c, sql("''")), sql("'\"'"), sql("'\"\"'")) for c in cells
        ]
        if self.extra:
            undeclared = fields.op("-")(cast(list(self.names), ARRAY(Text)))
            cells.append(
                case(
                    (func.jsonb_typeof(fields) != "object", sql("''")),
                    (undeclared == cast("{}", JSONB), sql("''")),
                    else_=sql("'{'"),  # a placeholder: the Python encoder writes this row
                )
            )
        line = reduce(lambda a, b: a.op("||")(sql("'\",\"'")).op("||")(b), cells).label("line")
        lines = select(line, at.label("at"), ident.label("ident"), rank.label("rank"))
        if fields is self.fields:  # straight from the table: this is the batch query
            lines = lines.where(*self._after(first)).order_by(*self.order).limit(self.size)
        batch = lines.subquery("batch")
        last = batch.c.rank == self.size
        return select(
            func.string_agg(
                batch.c.line, aggregate_order_by(sql("chr(2) || '\",\"'"), batch.c.rank)
            ),
            func.count(),
            func.max(batch.c.at).filter(last),
            func.max(batch.c.ident).filter(last),
            func.max(func.octet_length(batch.c.line)),
        )

    def chunks(self) -> Iterator[tuple[str, int]]:
        """(CSV lines, row count) per batch, oldest first; nothing when nothing matches.

        A helper thread runs the queries, one batch ahead, so the server cuts the next batch
        while this thread quotes the current one (the two were the whole cost, one after the
        other). Only that thread uses the session until the last batch is read.
        """
        ahead: queue.Queue[Any] = queue.Queue(maxsize=2)
        stop = threading.Event()
        worker = threading.Thread(target=self._read, args=(ahead, stop), name="export-read")
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
        if text.count(ROW_END) != count - 1:  # a cell holds ROW_END: let Python write it all
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
