"""One lead with thousands of undeclared keys cannot multiply every row's columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from flask import Flask

from app.db import Database
from app.export.csvfile import SubmissionCsv
from app.export.query import SubmissionFilter
from tests.export.factory import T0, add, add_series, submission

LEAD_FIELDS = ["name", "phone", "email", "service", "preferred_date"]  # schemas/lead_capture.json


def test_undeclared_keys_go_to_one_extra_column(app: Flask, db: Database) -> None:
    add_series(db, 50)
    wide = {f"k{i}": i for i in range(50_000)}
    add(db, submission(fields={"name": "Wide", **wide}, submitted_at=T0 + timedelta(days=1)))
    registry = app.extensions["flowgate"].registry
    with db.session() as session:
        text = "".join(SubmissionCsv(session, registry, SubmissionFilter()).chunks())
    limit = csv.field_size_limit(10_000_000)  # the wide row's one extra cell is ~0.7 MB
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    finally:
        csv.field_size_limit(limit)
    header, body = rows[0], rows[1:]
    assert len(header) == 7 + len(LEAD_FIELDS) + 1 and header[-1] == "extra"
    assert all(len(row) == len(header) for row in body)
    assert [row[-1] for row in body[:-1]] == [""] * 50  # conforming rows: an empty cell
    assert json.loads(body[-1][-1]) == wide and body[-1][header.index("name")] == "Wide"
    assert len(text) < 2 * len(json.dumps(wide)) + 50 * 400  # not 51 rows x 50,000 cells
