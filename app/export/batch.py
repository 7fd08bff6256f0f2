"""One batch of submission rows -> its CSV text: the hot path of a large export.

The bytes are exactly what `csv.writer(quoting=QUOTE_ALL, lineterminator="\\r\\n")` writes for
`cells.cell(value)` of every value (docs/api.md "CSV export"), at about a third of the cost.
Per value, Python only turns the few non-strings into text; the formula-injection prefix,
the quote doubling and the separators are then applied to the whole batch at once by C-level
string methods and one regular expression:

1. every cell of the batch, plus a `ROW_END` marker after each row, is joined with NUL;
2. a cell whose first character is dangerous follows a NUL, so one `re.sub` adds the `'`;
3. `"` becomes `""`, then NUL `ROW_END` NUL becomes the line break, then NUL becomes `","`.

This relies on NUL separating cells unambiguously. Stored text never holds NUL (intake strips
it) and no cell equals `ROW_END`, but both are checked per batch (two C-level scans): a batch
that breaks either goes through `csv.writer` and `cells.neutralise` instead, same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from app.clock import isoformat
from app.export.cells import BLANK_THEN_OPERATOR, DANGEROUS_FIRST, PREFIX, encode, neutralise

FIXED = 7  # submission_id, submitted_at, flow, wa_id, contact_name, source, status
SEP = "\0"
ROW_END = "\x02"
_DANGEROUS = "[" + re.escape("".join(DANGEROUS_FIRST - {SEP})) + "]"
_DANGEROUS_CELL = re.compile(SEP + "(?=" + _DANGEROUS + "|" + BLANK_THEN_OPERATOR + ")")
_DANGEROUS_START = re.compile("(?:" + _DANGEROUS + "|" + BLANK_THEN_OPERATOR + ")")


def csv_text(
    rows: Sequence[Sequence[Any]], names: Sequence[str], *, formatted: bool, extra: bool = False
) -> str:
    """The CSV lines of `rows`, read as `(id, submitted_at, flow, wa_id, contact_name, source,
    status, fields as JSON text)`; one column per field in `names`, then (when `extra`) one
    cell holding the fields not in `names` as compact JSON. submitted_at is the ISO text when
    `formatted`, else SQLite's stored text."""
    texts = _texts(_values(rows, names, formatted, extra), rows, names, extra)
    return _quote_all(texts, FIXED + len(names) + extra, len(rows))


def _values(
    rows: Sequence[Sequence[Any]], names: Sequence[str], formatted: bool, extra: bool
) -> list[Any]:
    """Every row's fixed columns and field values, then `ROW_END`, in one flat list.

    JSON is parsed with orjson (several times faster than the stdlib), which reads integers
    beyond 64 bits as floats; `_texts` re-reads such values exactly.
    """
    flat: list[Any] = []
    extend, append = flat.extend, flat.append
    absent: Callable[[str], None] = {}.get
    declared = frozenset(names)
    for ident, at, flow, wa_id, name, source, status, stored in rows:
        try:
            fields = orjson.loads(stored)
        except orjson.JSONDecodeError:  # e.g. a lone surrogate escape or NaN: stdlib reads them
            fields = _lenient(stored)
        extend((ident, at if formatted else _iso(at), flow, wa_id, name, source, status))
        extend(map(fields.get if fields.__class__ is dict else absent, names))
        if extra:
            append(_extra(fields, declared, stored))
        append(ROW_END)
    return flat


def _extra(fields: Any, declared: frozenset[str], stored: str) -> str:
    """The undeclared fields as one compact JSON cell ("" when none), re-read exactly by the
    stdlib (orjson rounds big integers) in stored key order."""
    if fields.__class__ is not dict or not fields.keys() - declared:
        return ""
    exact = _lenient(stored)
    return encode({key: value for key, value in exact.items() if key not in declared})


def _texts(
    values: list[Any], rows: Sequence[Sequence[Any]], names: Sequence[str], extra: bool = False
) -> list[str]:
    """`values` as cell text before the formula prefix (`cells.encode`, fast paths inlined)."""
    reread: list[None] = []

    def text(value: Any) -> str | None:
        kind = value.__class__
        if value is None:
            return ""
        if kind is bool:
            return "true" if value else "false"
        # orjson's ints are exact; a float strictly inside the 64-bit integer range was a
        # float in the JSON. Anything else may hold an integer orjson rounded: re-read it.
        if kind is int or (kind is float and -(2.0**63) < value < 2.0**64):
            return repr(value)
        reread.append(None)
        return None

    texts = [value if value.__class__ is str else text(value) for value in values]
    if reread:
        width = FIXED + len(names) + extra + 1  # the extra cell is text: never re-read
        for i, cell_text in enumerate(texts):
            if cell_text is None:
                exact = _lenient(rows[i // width][-1])
                texts[i] = encode(exact.get(names[i % width - FIXED]))
    return texts  # type: ignore[return-value]  # every None was replaced above


def _quote_all(texts: list[str], width: int, count: int) -> str:
    """`texts` (`width` cells then `ROW_END`, `count` times) as RFC 4180 lines, every cell
    quoted and neutralised; see the module docstring."""
    joined = SEP.join(texts) + SEP
    if joined.count(SEP) != len(texts) or texts.count(ROW_END) != count:
        return _quote_all_slowly(texts, width)
    joined = _DANGEROUS_CELL.sub(SEP + PREFIX, joined)
    if joined[:1] in DANGEROUS_FIRST or _DANGEROUS_START.match(joined):
        joined = PREFIX + joined
    joined = joined.replace('"', '""').replace(SEP + ROW_END + SEP, '"\r\n"').replace(SEP, '","')
    return '"' + joined[:-1]


def _quote_all_slowly(texts: list[str], width: int) -> str:
    """`_quote_all` for a batch with NUL in a cell or a cell equal to `ROW_END`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for start in range(0, len(texts), width + 1):
        writer.writerow([neutralise(text) for text in texts[start : start + width]])
    return buffer.getvalue()


def _lenient(stored: str) -> Any:
    """The stdlib's reading of stored JSON; text no parser accepts exports no field cells
    rather than stopping the export (the row's fixed columns still identify the lead)."""
    try:
        value = json.loads(stored)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(raw: str) -> str:
    """SQLite's stored submitted_at (naive UTC, normally `YYYY-MM-DD HH:MM:SS.ffffff`, sliced
    directly) as `clock.isoformat` writes it."""
    if len(raw) == 26 and raw[10] == " " and raw[19] == ".":
        fraction = raw[19:]
        return f"{raw[:10]}T{raw[11:19]}{'' if fraction == '.000000' else fraction}Z"
    return isoformat(datetime.fromisoformat(raw).replace(tzinfo=UTC)) or ""
