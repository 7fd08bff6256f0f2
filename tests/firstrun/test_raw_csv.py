"""Raw CSV mode undoes exactly the spreadsheet guard, for any text (app/export/raw.py)."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from app.export.batch import csv_text
from app.export.cells import cell, encode
from app.export.raw import unguard

# Text that stresses the CSV: quotes, commas, line breaks, and every guarded first character.
TEXT = st.text(alphabet=st.sampled_from(list("ab,\"'\r\n=+-@\t 1")), max_size=12)
VALUES = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.lists(TEXT, max_size=2))


def _guarded(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()


@given(st.lists(st.lists(VALUES, min_size=1, max_size=4), min_size=1, max_size=5))
def test_raw_is_the_stored_text(rows: list[list[object]]) -> None:
    raw = unguard(_guarded(rows))
    parsed = list(csv.reader(io.StringIO(raw, newline="")))
    assert parsed == [[encode(v) for v in row] for row in rows]


@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=5))
def test_the_export_fast_path_unguards_the_same(pairs: list[tuple[str, str]]) -> None:
    """The batch writer (the export's hot path) writes what `unguard` expects."""
    rows = [
        (
            f"id{i}",
            "2026-01-01T00:00:00Z",
            "f",
            "+4477",
            "-n",
            "webhook",
            "valid",
            json.dumps({"a": a, "b": b}),
        )
        for i, (a, b) in enumerate(pairs)
    ]
    text = csv_text(rows, ["a", "b"], formatted=True)
    parsed = list(csv.reader(io.StringIO(unguard(text), newline="")))
    assert [row[3:5] + row[-2:] for row in parsed] == [["+4477", "-n", a, b] for a, b in pairs]
