"""Cell encoding and the formula-injection prefix, read back through Python's csv module."""

from __future__ import annotations

import csv
import io

import pytest

from app.export.cells import cell, decode

HOSTILE = [
    "=1+2",
    '=1+2";=1+2',
    "+1 555 0100",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=cmd|' /C calc'!A0",
    '\r=HYPERLINK("http://x")',
    "\n=1",
    "'=already quoted",
    "'plain apostrophe",
    "''",
    "'",
    "=",
    '"quoted" , comma; semicolon',
    "line1\r\nline2\n=line3",
    "  =leading spaces (a formula once an import trims them)",
    "emoji 🙂 and ümlaut",
    "",
    "normal",
]


def roundtrip(values: list[str]) -> list[str]:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(
        [cell(v) for v in values]
    )
    (row,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    return row


def test_hostile_values_come_back_exactly_after_removing_only_the_prefix() -> None:
    row = roundtrip(HOSTILE)
    for stored, written in zip(HOSTILE, row, strict=True):
        assert decode(written) == stored
        after_blanks = stored.lstrip(" \u200b")[:1] if stored[:1] in (" ", "\u200b") else ""
        dangerous = stored[:1] in {"=", "+", "-", "@", "\t", "\r", "\n", "'"} or after_blanks in {
            "=",
            "+",
            "-",
            "@",
        }
        assert written == ("'" + stored if dangerous else stored)
        # A spreadsheet never sees a formula start.
        assert written[:1] not in {"=", "+", "-", "@", "\t", "\r", "\n"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        (-7, "'-7"),
        ({"a": [1, "=x"], "é": None}, '{"a":[1,"=x"],"é":null}'),
        (["x", "y"], '["x","y"]'),
        ([], "[]"),
    ],
)
def test_structured_values_are_compact_json_and_reversible(value: object, text: str) -> None:
    (written,) = roundtrip([value])  # type: ignore[list-item]
    assert written == text
    if value is not None:
        assert decode(written, structured=True) == value
