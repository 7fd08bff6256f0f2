"""`flowgate export`: same rows as the API, files and stdout, quiet when piped, a bar on a tty."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.cli.export import write_export
from app.db import Database
from app.export.csvfile import SubmissionCsv
from app.export.query import SubmissionFilter
from tests.export.factory import T0, add, add_series, submission


def test_export_to_file_matches_the_api(
    runner, client: FlaskClient, db: Database, api_headers: dict[str, str], tmp_path: Path
) -> None:
    add_series(db, 4, contact_name="Zoë")
    add(db, submission(status="invalid", submitted_at=T0 + timedelta(hours=1)))
    target = tmp_path / "out.csv"
    result = runner.invoke(
        [
            "export",
            "--status",
            "valid",
            "--since",
            "2026-03-01T12:01:00Z",
            "-o",
            str(target),
            "--excel",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""  # nothing on stdout/stderr when not a terminal
    api = client.get(
        "/api/v1/submissions.csv?status=valid&since=2026-03-01T12:01:00Z&excel=1",
        headers=api_headers,
    )
    assert target.read_bytes() == api.get_data()
    assert target.read_bytes().count(b"\r\n") == 4  # header + 3 rows
    assert "Zoë".encode() in target.read_bytes()


def test_export_to_stdout_and_bad_options(runner, db: Database) -> None:
    add_series(db, 2)
    result = runner.invoke(["export", "--flow", "lead_capture"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b'"submission_id"')
    assert result.stdout_bytes.count(b"\r\n") == 3
    assert result.stderr == ""
    bad = runner.invoke(["export", "--until", "soon"])
    assert bad.exit_code == 2 and "--until" in bad.output
    assert runner.invoke(["export", "--status", "odd"]).exit_code == 2


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_rows_and_estimate_on_a_terminal(app: Flask, db: Database) -> None:
    add_series(db, 5)
    registry = app.extensions["flowgate"].registry
    terminal, out = FakeTerminal(), io.BytesIO()
    with db.session() as session:
        job = SubmissionCsv(session, registry, SubmissionFilter(), batch_size=2)
        assert write_export(job, out, progress=terminal) == 5
    shown = terminal.getvalue()
    assert "rows" in shown and "5/5" in shown
    assert out.getvalue().count(b"\r\n") == 6
