"""`flowgate export`: the submissions CSV to a file or stdout, with a progress bar on a terminal."""

from __future__ import annotations

import sys
from typing import IO, Any

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from app.api.schemas.submissions import SubmissionFilterSchema
from app.export.csvfile import SubmissionCsv
from app.web import runtime


@click.command("export")
@click.option("--flow", help="Only this flow.")
@click.option("--wa-id", help="Only this WhatsApp ID.")
@click.option(
    "--since", metavar="TIME", help="submitted_at at or after (ISO 8601, UTC if no offset)."
)
@click.option("--until", metavar="TIME", help="submitted_at before (ISO 8601).")
@click.option(
    "--status", type=click.Choice(["valid", "invalid", "all"]), default="all", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default stdout)."
)
@click.option("--excel", is_flag=True, help="Start with a UTF-8 BOM so Excel reads UTF-8.")
@with_appcontext
def export_command(output: str | None, excel: bool, **options: Any) -> None:
    """Export submissions as CSV (same filters and format as GET /api/v1/submissions.csv)."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        filters = SubmissionFilterSchema().load(given)["filters"]
    except ValidationError as exc:
        field, messages = next(iter(exc.normalized_messages().items()))
        raise click.BadParameter(" ".join(map(str, messages)), param_hint=f"--{field}") from None
    rt = runtime()
    with rt.db.session() as session:
        export = SubmissionCsv(session, rt.registry, filters, excel=excel)
        # A bar only on an interactive stderr, and not while the CSV itself fills that terminal.
        csv_on_terminal = output is None and sys.stdout.isatty()
        bar = sys.stderr if sys.stderr.isatty() and not csv_on_terminal else None
        if output is None:
            write_export(export, sys.stdout.buffer, progress=bar)
        else:
            with open(output, "wb") as out:
                write_export(export, out, progress=bar)


def write_export(export: SubmissionCsv, out: IO[bytes], *, progress: IO[str] | None) -> int:
    """Write every chunk as UTF-8; with `progress`, draw a bar there with rows done, the
    total (exact: same snapshot) and the time left. Returns the rows written."""
    if progress is None:
        for chunk in export.encoded():
            out.write(chunk)
        out.flush()
        return export.rows_written
    total = export.estimate()
    with click.progressbar(
        length=total, label="rows", show_pos=True, show_eta=True, file=progress
    ) as bar:
        done = 0
        for chunk in export.encoded():
            out.write(chunk)
            bar.update(export.rows_written - done)
            done = export.rows_written
    out.flush()
    return export.rows_written
