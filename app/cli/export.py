"""`flowgate export`: the submissions CSV to a file or stdout, with a progress bar on a terminal."""

from __future__ import annotations

import sys
from typing import IO, Any

import click
from marshmallow import ValidationError
from sqlalchemy import select

from app.api.schemas.submissions import SubmissionFilterSchema
from app.cli.needs import command_runtime
from app.export.csvfile import SubmissionCsv
from app.models import Submission
from app.runtime import Runtime


@click.command("export")
@click.option("--flow", help="Only this flow.")
@click.option("--wa-id", help="Only this WhatsApp ID.")
@click.option(
    "--since", metavar="TIME", help="submitted_at at or after (ISO 8601, UTC if no offset)."
)
@click.option("--until", metavar="TIME", help="submitted_at before (ISO 8601).")
@click.option(
    "--status",
    type=click.Choice(["valid", "invalid", "unrouted", "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default stdout)."
)
@click.option("--excel", is_flag=True, help="Start with a UTF-8 BOM so Excel reads UTF-8.")
@click.option(
    "--raw",
    is_flag=True,
    help="No leading ' on cells a spreadsheet would evaluate (+44..., =...): for machine "
    "imports. UNSAFE to open in a spreadsheet.",
)
def export_command(output: str | None, excel: bool, raw: bool, **options: Any) -> None:
    """Export submissions as CSV (same filters and format as GET /api/v1/submissions.csv)."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        filters = SubmissionFilterSchema().load(given)["filters"]
    except ValidationError as exc:
        field, messages = next(iter(exc.normalized_messages().items()))
        text = " ".join(map(str, messages))
        if field in ("since", "until"):
            text += f" Expected ISO 8601, e.g. {TIME_EXAMPLES} (UTC when no offset is given)."
        raise click.BadParameter(text, param_hint=f"--{field}") from None
    runtime = command_runtime(flows=True)
    if filters.flow is not None:
        check_flow(runtime, filters.flow)
    with runtime.db.session() as session:
        export = SubmissionCsv(session, runtime.registry, filters, excel=excel, raw=raw)
        # A bar only on an interactive stderr, and not while the CSV itself fills that terminal.
        csv_on_terminal = output is None and sys.stdout.isatty()
        bar = sys.stderr if sys.stderr.isatty() and not csv_on_terminal else None
        if output is None:
            write_export(export, sys.stdout.buffer, progress=bar)
        else:
            with open(output, "wb") as out:
                write_export(export, out, progress=bar)


TIME_EXAMPLES = "2026-01-31, 2026-01-31T09:00:00Z or 2026-01-31T10:00:00+01:00"


def check_flow(runtime: Runtime, flow: str) -> None:
    """An unknown flow is an error listing the known ones (a typo would export nothing).

    Known: the flows in FLOWGATE_FLOWS_DIR and any flow that has stored leads.
    """
    known = {d.name for d in runtime.registry.all()} if runtime.registry else set()
    if flow in known:
        return
    with runtime.db.session() as session:
        stored = set(session.scalars(select(Submission.flow).distinct()))
    known |= {name for name in stored if name}
    if flow not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise click.BadParameter(f"no flow {flow!r}; known flows: {listed}", param_hint="--flow")


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
