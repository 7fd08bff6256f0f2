"""The submissions CSV against a real database: columns, hostile values, batches, snapshot."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import text as sql_text

from app.db import Database
from app.export.cells import decode
from app.export.csvfile import SubmissionCsv
from app.export.query import SubmissionFilter
from tests.export.factory import T0, add, add_series, submission

FIXED = ["submission_id", "submitted_at", "flow", "wa_id", "contact_name", "source", "status"]
LEAD_FIELDS = ["name", "phone", "email", "service", "preferred_date"]  # schemas/lead_capture.json


def export(app: Flask, db: Database, filters: SubmissionFilter | None = None, **kw: Any) -> str:
    registry = app.extensions["flowgate"].registry
    with db.session() as session:
        return "".join(
            SubmissionCsv(session, registry, filters or SubmissionFilter(), **kw).chunks()
        )


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_columns_follow_schema_order_then_one_extra_column(app: Flask, db: Database) -> None:
    add(
        db,
        submission(fields={"zeta": "z", "email": "a@b.co", "alpha": 1, "name": "Ada"}),
        submission(flow="appointment", fields={"other": True}, submitted_at=T0 + timedelta(1)),
    )
    text = export(app, db, SubmissionFilter(flow="lead_capture"))
    header = next(csv.reader(io.StringIO(text)))
    assert header == [*FIXED, *LEAD_FIELDS, "extra"]
    row = rows_of(text)[0]
    assert (row["name"], row["email"], row["phone"]) == ("Ada", "a@b.co", "")
    assert row["extra"] == '{"zeta":"z","alpha":1}'  # undeclared keys, stored order, compact

    # Across flows: the union, flows by name (appointment first), then one `extra` column.
    registry = app.extensions["flowgate"].registry
    appointment = list(registry.get("appointment").schema["properties"])
    header = next(csv.reader(io.StringIO(export(app, db))))
    expected = list(dict.fromkeys([*appointment, *LEAD_FIELDS]))
    assert header == [*FIXED, *expected, "extra"]


def test_hostile_stored_values_read_back_exactly(app: Flask, db: Database) -> None:
    hostile = ["=1+2", "+34 600", "-1", "@cmd", "\t=x", "\r=y", "\n=z", "'=q", 'a","b', "🙂"]
    add(
        db,
        *(
            submission(
                contact_name=value,
                wa_id=value,
                fields={"name": value, "=evil key": value, "nested": {"v": value}},
                submitted_at=T0 + timedelta(seconds=i),
            )
            for i, value in enumerate(hostile)
        ),
    )
    text = export(app, db)
    header = next(csv.reader(io.StringIO(text)))
    assert header[-1] == "extra"  # undeclared keys live in one column
    rows = rows_of(text)
    assert len(rows) == len(hostile)
    for value, row in zip(hostile, rows, strict=True):
        for column in ("contact_name", "wa_id", "name"):
            assert decode(row[column]) == value
        extra = decode(row["extra"], structured=True)
        assert extra == {"=evil key": value, "nested": {"v": value}}
        assert all(cell[:1] not in "=+-@\t\r\n" or cell == "" for cell in row.values())


def test_batches_walk_every_row_once_in_order_without_offset(app: Flask, db: Database) -> None:
    stored = add_series(db, 7, step=timedelta(0)) + add_series(db, 5, step=timedelta(seconds=1))
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement.upper(), params))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        text = export(app, db, batch_size=3)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    ids = [row["submission_id"] for row in rows_of(text)]
    expected = sorted(stored, key=lambda s: (s.submitted_at, s.id))
    assert ids == [s.id for s in expected]
    reads = [(sql, params) for sql, params in statements if "LIMIT" in sql]
    assert len(reads) == 5  # 12 rows / 3 per batch, plus the short last batch
    # SQLite's dialect always renders `OFFSET ?`; it must stay 0 (keyset, not offset paging).
    assert all("OFFSET" not in sql or params[-1] == 0 for sql, params in reads)


def test_export_reads_one_snapshot_while_leads_arrive(app: Flask, db: Database) -> None:
    add_series(db, 5)
    registry = app.extensions["flowgate"].registry
    with db.session() as session:
        job = SubmissionCsv(session, registry, SubmissionFilter(), batch_size=2)
        chunks = job.chunks()
        first = next(chunks) + next(chunks)
        add_series(db, 3, fields={"late": "x"})  # committed by another session mid-export
        text = first + "".join(chunks)
        assert job.estimate() == 5
    assert "late" not in next(csv.reader(io.StringIO(text)))
    assert len(rows_of(text)) == 5
    assert len(rows_of(export(app, db))) == 8


def test_filters_and_excel_bom(app: Flask, db: Database) -> None:
    add_series(db, 4)
    add(db, submission(status="invalid", wa_id="49170", submitted_at=T0 + timedelta(hours=1)))
    add(db, submission(flow="appointment", fields={}, submitted_at=T0 + timedelta(hours=2)))

    def ids(**kw: Any) -> int:
        return len(rows_of(export(app, db, SubmissionFilter(**kw))))

    assert ids() == 6
    assert ids(status="invalid") == 1
    assert ids(status="valid") == 5
    assert ids(wa_id="49170") == 1
    assert ids(flow="appointment") == 1
    assert ids(since=T0 + timedelta(minutes=2)) == 4
    assert ids(until=T0 + timedelta(minutes=2)) == 2
    assert ids(since=T0 + timedelta(hours=3)) == 0

    plain, excel = export(app, db), export(app, db, excel=True)
    assert excel == "\ufeff" + plain
    assert plain.startswith('"submission_id"') and plain.endswith("\r\n")
    first = rows_of(plain)[0]
    assert first["submitted_at"] == "2026-03-01T12:00:00Z"


def test_exact_values_times_and_big_integers(app: Flask, db: Database) -> None:
    big = 123456789012345678901234567890
    edges = {"below": -(2**63) - 1, "above": 2**64}  # just outside 64 bits: a float rounds them
    add(
        db,
        submission(
            fields={"name": "Ada", "n": big, "f": 0.1, "neg": -2, "ok": False, "none": None}
            | edges,
            submitted_at=T0 + timedelta(microseconds=1500),
        ),
    )
    (row,) = rows_of(export(app, db))
    assert row["submitted_at"] == "2026-03-01T12:00:00.001500Z"
    assert row["name"] == "Ada"
    extra = decode(row["extra"], structured=True)
    assert extra["n"] == big  # not rounded through a float
    assert {key: extra[key] for key in edges} == edges
    assert (extra["f"], extra["neg"], extra["ok"], extra["none"]) == (0.1, -2, False, None)


def test_nested_big_integers_and_invalid_unicode_do_not_break_the_export(
    app: Flask, db: Database
) -> None:
    big = -(2**70)
    # PostgreSQL refuses lone surrogates on the way in; SQLite stores them escaped.
    name = "\ud800 lone" if db.is_sqlite else "? lone"
    add(db, submission(fields={"name": name, "deep": {"n": [big]}}))
    registry = app.extensions["flowgate"].registry
    with db.session() as session:
        data = b"".join(SubmissionCsv(session, registry, SubmissionFilter()).encoded())
    (row,) = rows_of(data.decode("utf-8"))
    assert decode(row["extra"], structured=True) == {"deep": {"n": [big]}}
    assert row["name"] == "? lone"


def test_rows_sqlite_cannot_parse_do_not_sink_the_export(app: Flask, db: Database) -> None:
    """Python's json writes NaN/Infinity, which SQLite's JSON functions refuse."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL's jsonb cannot hold NaN or malformed JSON at all")
    good, bad, broken = add_series(db, 3)
    with db.transaction() as session:
        session.execute(
            sql_text("UPDATE submissions SET fields = :f WHERE id = :id"),
            [{"f": '{"name": "N", "x": NaN}', "id": bad.id}, {"f": "{oops", "id": broken.id}],
        )
    rows = rows_of(export(app, db))
    assert [r["submission_id"] for r in rows] == [good.id, bad.id, broken.id]
    assert rows[1]["name"] == "N"  # its schema fields still come out
    assert "x" not in rows[1]  # keys only that row has are not discovered by SQLite
    assert rows[2]["name"] == ""
