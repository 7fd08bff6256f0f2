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

import re
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

SEP = "\x01"
ROW_END = "\x02"
_DANGEROUS = "[" + re.escape("".join(DANGEROUS_FIRST)) + "]"
_GUARD = re.compile(SEP + "(?=" + _DANGEROUS + "|" + BLANK_THEN_OPERATOR + ")")
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"  # the shape of jsonb's number text
_PLAIN = (
    r"-?(?:[0-9]{1,18}|(?=[0-9.]{3,16}" + SEP + r")"
    r"(?:[1-9][0-9]*\.(?:[0-9]*[1-9]|0)|0\.(?:0|0{0,3}[1-9](?:[0-9]*[1-9])?)))"
)
_SUSPECT = re.compile(SEP + r"(?:[\[{]|(?!" + _PLAIN + SEP + ")" + _NUMBER + SEP + ")")


def quote(framed: str) -> str:
    """`SEP` + whole rows of server cells -> their CSV lines (guard, quotes, CRLF), exactly
    as `batch._quote_all` turns its NUL-joined cells into lines."""
    text = _GUARD.sub(SEP + PREFIX, framed)
    text = text.replace('"', '""').replace(SEP + ROW_END + SEP, '"\r\n"').replace(SEP, '","')
    return text[2:-1]


def suspects(text: str) -> list[tuple[int, int]]:
    """(start, end) of each row of `text` (whole rows) the Python encoder must redo."""
    found: list[tuple[int, int]] = []
    for match in _SUSPECT.finditer(SEP + text):
        cell = match.start()  # in `text`, where the suspect cell starts
        if found and cell < found[-1][1]:
            continue  # a second suspect cell of the same row
        previous = text.rfind(ROW_END, 0, cell)
        start = previous + 2 if previous >= 0 else 0
        found.append((start, text.find(ROW_END, cell) + 2))
    return found


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
        self.python_columns = (*fixed, stored)
        self.key = tuple_(
            bindparam("at", type_=DateTime(timezone=True)), bindparam("id", type_=String())
        )
        rank = func.row_number().over(order_by=self.order).label("rank")
        inner = [*(c.label(f"c{i}") for i, c in enumerate(fixed)), fields.label("f")]
        self.inner = (*inner, table.submitted_at.label("at"), table.id.label("ident"), rank)

    def _statement(self, first: bool) -> Any:
        after = [] if first else [tuple_(*self.order) > self.key]
        batch = (
            select(*self.inner)
            .where(*self.filters.conditions(), *after)
            .order_by(*self.order)
            .limit(self.size)
            .subquery("batch")
        )
        cells = [func.coalesce(batch.c[f"c{i}"], "") for i in range(FIXED)]
        values = batch.c.f
        cells += [func.coalesce(values.op("->>")(cast(literal(n), Text)), "") for n in self.names]
        if self.extra:
            undeclared = values.op("-")(cast(list(self.names), ARRAY(Text)))
            cells.append(
                case(
                    (func.jsonb_typeof(values) != "object", ""),
                    (undeclared == cast("{}", JSONB), ""),
                    else_="{",  # a placeholder: the Python encoder writes this row
                )
            )
        cut = sql("chr(1)")
        line = reduce(lambda a, b: a.op("||")(cut).op("||")(b), cells)
        line = line.op("||")(sql("chr(1) || chr(2) || chr(1)"))
        last = batch.c.rank == self.size
        return select(
            func.string_agg(line, aggregate_order_by(sql("''"), batch.c.rank)),
            func.count(),
            func.max(batch.c.at).filter(last),
            func.max(batch.c.ident).filter(last),
        )

    def chunks(self) -> Iterator[tuple[str, int]]:
        """(CSV lines, row count) per batch, oldest first; empty when nothing matches."""
        first, following = self._statement(True), self._statement(False)
        statement, key = first, {}
        while True:
            text, count, at, ident = self.session.execute(statement, key).one()
            if count:
                yield self._lines(text, count, key), count
            if count < self.size:
                return
            statement, key = following, {"at": at, "id": ident}

    def _lines(self, text: str, count: int, key: dict[str, Any]) -> str:
        if text.count(SEP) != count * (self.width + 1) or text.count(ROW_END) != count:
            return self._python(self._batch_rows(key))  # a cell holds SEP or ROW_END
        redo = suspects(text)
        if not redo:
            return quote(SEP + text)
        rows = self._rows_by_id([text[start : text.find(SEP, start)] for start, _ in redo])
        out, done = [], 0
        for (start, end), row in zip(redo, rows, strict=True):
            if start > done:
                out.append(quote(SEP + text[done:start]))
            out.append(self._python([row]))
            done = end
        if done < len(text):
            out.append(quote(SEP + text[done:]))
        return "".join(out)

    def _python(self, rows: Sequence[Sequence[Any]]) -> str:
        return csv_text(rows, self.names, formatted=True, extra=self.extra)

    def _batch_rows(self, key: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """The batch after `key` as `batch.csv_text` reads rows (same snapshot, same rows)."""
        after = [tuple_(*self.order) > self.key] if key else []
        stmt = select(*self.python_columns).where(*self.filters.conditions(), *after)
        stmt = stmt.order_by(*self.order).limit(self.size)
        return self.session.execute(stmt, key).all()

    def _rows_by_id(self, ids: list[str]) -> list[Sequence[Any]]:
        table = Submission.__table__.c
        stmt = select(*self.python_columns).where(table.id.in_(ids))
        found = {row[0]: row for row in self.session.execute(stmt).all()}
        return [found[ident] for ident in ids]
