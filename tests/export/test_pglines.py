"""PostgreSQL's server-side cells (app/export/pglines.py) against the Python encoder, byte
for byte: the hostile table of test_batch.py and a property test over drawn stored JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError

from app.db import Database
from app.export import pglines
from app.export.batch import _quote_all
from app.export.csvfile import SubmissionCsv
from app.export.pglines import ROWS, SEP, quote, suspects
from app.export.query import SubmissionFilter
from app.models import ContactAutomation
from tests.export.factory import T0, add, submission
from tests.export.test_batch import HOSTILE

DECLARED = ["name", "phone", "email", "service", "preferred_date"]  # schemas/lead_capture.json
# Number texts jsonb keeps as written (trailing zeros, many digits) or rewrites (exponents).
NUMBER_TEXTS = [
    "1.50", "0.00001", "0.0001", "1e-7", "1.5e-07", "1e400", "-1e-400", "123456789012345.6",
    "12345678901234.5", "1234567890123456789012", "0.1", "-0.0", "100.0", "3.00", "1E2", "2.5",
    "1e5000", "-2e4299",
]  # fmt: skip
EXTRA_TEXTS = [
    SEP, "a" + SEP + "b", SEP + "=x", "\x02", ROWS, "[1]", "{x}", "1.50", "0.00001", "007",
    "12345678901234567890", " =1", "\u200b=1", "\uff1d1", "tab\tin", "back\\slash", "\\n",
]  # fmt: skip


class Counted:
    """How many rows pglines.py handed to the Python encoder."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        real = pglines.csv_text

        def counted(rows: Any, *args: Any, **kw: Any) -> str:
            self.rows += len(rows)
            return real(rows, *args, **kw)

        monkeypatch.setattr(pglines, "csv_text", counted)


def export(app: Flask, db: Database, python_only: bool, **kw: Any) -> str:
    registry = app.extensions["flowgate"].registry
    with db.session() as session:
        job = SubmissionCsv(session, registry, kw.pop("filters", SubmissionFilter()), **kw)
        job.python_only = python_only
        return "".join(job.chunks())


def same_bytes(app: Flask, db: Database, **kw: Any) -> str:
    ours = export(app, db, False, **kw)
    assert ours == export(app, db, True, **kw)
    return ours


def storable(value: Any) -> bool:
    """PostgreSQL text cannot hold NUL (intake strips it before storing)."""
    return "\\u0000" not in json.dumps(value)


def put_json(db: Database, ident: str, stored: str) -> None:
    with db.transaction() as session:
        session.execute(
            sql_text("UPDATE submissions SET fields = CAST(:f AS jsonb) WHERE id = :id"),
            {"f": stored, "id": ident},
        )


def test_quote_is_batch_quote_all_for_hostile_text() -> None:
    cells = [v for v in [*map(str, HOSTILE), *EXTRA_TEXTS] if SEP not in v and "\x02" not in v]
    rows = [cells[i : i + 5] for i in range(0, len(cells) - 4, 3)]
    server = ROWS.join(SEP.join(row) for row in rows)
    texts = [cell for row in rows for cell in (*row, "\x02")]
    assert quote(server) == _quote_all(texts, 5, len(rows))
    assert suspects(server, 10) == sorted(
        i
        for i, row in enumerate(rows)
        if any(c.startswith(("[", "{")) or c in ("1.50", "0.00001") for c in row)
    )


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("server-side cells are PostgreSQL's; SQLite always uses the Python encoder")


@pytest.mark.parametrize("first_touch", [False, True])
def test_hostile_table_same_bytes_as_the_python_encoder(
    app: Flask, db: Database, first_touch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_only(db)
    python = Counted(monkeypatch)
    values = [v for v in [*HOSTILE, *EXTRA_TEXTS] if storable(v)]
    texts = [v if isinstance(v, str) else None for v in values]
    rows = []
    for i, value in enumerate(values):
        text = texts[(i * 7) % len(texts)]
        declared = {"name": value, "phone": text, "email": value, "service": texts[i]}
        rows.append(
            submission(
                flow="lead_capture" if i % 3 else "appointment",
                contact_name=text,
                wa_id=(text or "")[:32],
                fields=declared if i % 2 else {**declared, "=evil": value, "nested": [value]},
                submitted_at=T0 + timedelta(seconds=i // 2),
            )
        )
    add(db, *rows)
    for i, number in enumerate(NUMBER_TEXTS):  # numbers only JSON text can hold
        row = rows[i]
        put_json(db, row.id, json.dumps({"name": "n", "email": 1}).replace("1", number))
    if first_touch:
        with db.transaction() as session:
            session.add(ContactAutomation(wa_id=rows[1].wa_id, first_source="ad", first_ref="=x"))
    for size in (1, 3, 2000):
        text = same_bytes(app, db, batch_size=size)
        assert text.count("\r\n") >= len(rows) + 1
        same_bytes(app, db, batch_size=size, filters=SubmissionFilter(flow="lead_capture"))
    assert ('"first_touch_source"' in text) is first_touch
    # Both paths ran: batch size 1 sends only the rows that need it to the Python encoder.
    python.rows = 0
    same_bytes(app, db, batch_size=1)
    assert 0 < python.rows < len(rows)


def test_ordinary_values_never_reach_the_python_encoder(
    app: Flask, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_only(db)
    plain: list[Any] = [
        "Ada", "=1+2", "+34 600", "-1", "@x", "\t=x", "\r\nx", "'q", 'a","b', 'say "hi"', " =1",
        "\u200b=1", "🙂 é", "", None, True, False, 0, -5, 2.5, -0.5, 0.1, 0.0001, 100.0, 2**70,
        "1.5", "2026-01-01", "007",
    ]  # fmt: skip
    add(
        db,
        *(
            submission(contact_name=str(v), wa_id=str(v)[:32], fields={"name": v, "phone": v})
            for v in plain
        ),
    )
    python = Counted(monkeypatch)
    for size in (1, 4, 2000):
        same_bytes(app, db, batch_size=size)
    assert python.rows == 0


def test_nul_and_lone_surrogates_cannot_be_stored(app: Flask, db: Database) -> None:
    """Why the server-side path never meets them: jsonb refuses both (\\u0000, \\ud800)."""
    postgres_only(db)
    (row,) = add(db, submission())
    for stored in ('{"name": "a\\u0000b"}', '{"name": "\\ud800"}'):
        with pytest.raises(DBAPIError):
            put_json(db, row.id, stored)


KEYS = st.sampled_from([*DECLARED, "zeta", "=k", "a b", "nested"])
HOSTILE_TEXT = st.sampled_from(
    [v for v in HOSTILE if isinstance(v, str) and storable(v)] + EXTRA_TEXTS
)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12
) | HOSTILE_TEXT.flatmap(lambda h: st.text(max_size=3).map(lambda t: h + t.replace("\0", "")))
SCALAR_JSON = st.one_of(
    TEXT.map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(NUMBER_TEXTS),
    st.from_regex(r"-?(0|[1-9][0-9]{0,22})(\.[0-9]{1,19})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.sampled_from(["true", "false", "null"]),
)
NESTED = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
).map(lambda v: json.dumps(v, ensure_ascii=False))
FIELDS = st.dictionaries(KEYS, SCALAR_JSON | NESTED, max_size=7).map(
    lambda d: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in d.items()) + "}"
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stored=st.lists(st.tuples(FIELDS, TEXT | st.none()), min_size=1, max_size=6),
    size=st.sampled_from([1, 2, 5, 2000]),
)
def test_drawn_stored_json_same_bytes_as_the_python_encoder(
    app: Flask, db: Database, stored: list[tuple[str, str | None]], size: int
) -> None:
    postgres_only(db)
    with db.transaction() as session:
        session.execute(sql_text("DELETE FROM submissions"))
    rows = add(
        db,
        *(
            submission(contact_name=name, submitted_at=T0 + timedelta(seconds=i % 3))
            for i, (_, name) in enumerate(stored)
        ),
    )
    for row, (fields, _) in zip(rows, stored, strict=True):
        put_json(db, row.id, fields)
    same_bytes(app, db, batch_size=size)
    same_bytes(app, db, batch_size=size, filters=SubmissionFilter(flow="lead_capture"))
