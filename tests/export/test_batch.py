"""`batch.csv_text` against the plain reference: `csv.writer` (QUOTE_ALL, CRLF) of `cells.cell`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.clock import isoformat
from app.export.batch import ROW_END, csv_text
from app.export.cells import cell

NAMES = ["name", "n", "nested", "flag"]
HOSTILE: list[Any] = [
    "plain", "", "=1+2", "+1", "-1", "@x", "\t=x", "\r=x", "\n=x", "'q", 'a","b', 'say "hi"',
    "line\r\nbreak", "ends with comma,", "ends with newline\n", "🙂 é", ROW_END, "a" + ROW_END,
    ROW_END + "=x", "\0=nul", "in\0side", None, True, False, 0, -5, 2.5, -0.5, 1e300, 2**70,
    -(2**63) - 1, {"a": [1, "x", None]}, [], {"=k": "-v"},
]  # fmt: skip


def reference(rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for ident, raw_at, flow, wa_id, name, source, status, stored in rows:
        fields = json.loads(stored)
        at = isoformat(datetime.fromisoformat(raw_at).replace(tzinfo=UTC))
        fixed = [ident, at, flow, wa_id, name, source, status]
        writer.writerow([cell(value) for value in (*fixed, *map(fields.get, NAMES))])
    return buffer.getvalue()


def row(i: int, value: Any, text: str | None) -> tuple[Any, ...]:
    fields = {"name": value, "n": value, "nested": {"v": value}, "flag": text}
    stored = json.dumps(fields, ensure_ascii=False)
    at = f"2026-03-01 12:00:{i % 60:02d}.{i:06d}"
    return (f"id-{i}", at, "flow", text, text, "webhook", "valid", stored)


@pytest.mark.parametrize("size", [1, 2, 7, len(HOSTILE)])
def test_same_bytes_as_csv_writer_for_hostile_batches(size: int) -> None:
    texts = [value if isinstance(value, str) else None for value in HOSTILE]
    rows = [row(i, value, texts[(i * 7) % len(texts)]) for i, value in enumerate(HOSTILE)]
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        assert csv_text(batch, NAMES, formatted=False) == reference(batch)


def test_reads_back_with_the_csv_module() -> None:
    rows = [row(i, value, None) for i, value in enumerate(HOSTILE) if isinstance(value, str)]
    parsed = list(csv.reader(io.StringIO(csv_text(rows, NAMES, formatted=False), newline="")))
    assert len(parsed) == len(rows)
    for line, original in zip(parsed, rows, strict=True):
        name = line[7]
        stored = json.loads(original[-1])["name"]
        assert (name[1:] if name.startswith("'") else name) == stored
