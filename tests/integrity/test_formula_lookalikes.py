"""Formula look-alikes outside the OWASP list: guarded where an import can make a formula."""

from __future__ import annotations

import csv
import io

import pytest

from app.export.batch import csv_text
from app.export.cells import cell, decode

GUARDED = [" =1+1", "  +1", "\u200b=1", "\u00a0@SUM(A1)", "\ufeff-2", "\u3000=1", " \u200b =1"]
UNCHANGED = ["\uff1d1+1", "\uff0b1", " hello", "\u200bword", " 5", "a =1"]


@pytest.mark.parametrize("value", GUARDED)
def test_blank_then_operator_is_prefixed_and_reversible(value: str) -> None:
    assert cell(value) == "'" + value
    assert decode(cell(value)) == value


@pytest.mark.parametrize("value", UNCHANGED)
def test_full_width_and_plain_text_are_unchanged(value: str) -> None:
    assert cell(value) == value


def test_the_batch_fast_path_writes_the_same_bytes() -> None:
    values = GUARDED + UNCHANGED
    rows = [
        ("id", "2026-01-01T00:00:00Z", value, value, value, "webhook", "valid", "{}")
        for value in values
    ]
    text = csv_text(rows, [], formatted=True)
    expected = io.StringIO()
    writer = csv.writer(expected, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row[:7]])
    assert text == expected.getvalue()
