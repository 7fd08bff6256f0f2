"""`flowgate media purge`: retention for uploaded files (docs/media.md)."""

from __future__ import annotations

from datetime import timedelta

import click

from app import clock
from app.cli.needs import command_runtime
from app.config import duration_seconds
from app.media.purge import purge
from app.media.storage import FileStore

DEFAULT_RETENTION = "30d"


@click.group("media")
def media_group() -> None:
    """Files uploaded through PhotoPicker and DocumentPicker."""


@media_group.command("purge")
@click.option(
    "--older-than",
    default=None,
    metavar="AGE",
    help=f"Files received more than AGE ago (30d, 12h, 90m, seconds). [default {DEFAULT_RETENTION}"
    " unless --submission is given]",
)
@click.option("--submission", "submission_id", help="Every file of this submission.")
@click.option("--dry-run", is_flag=True, help="Only count what would be purged.")
def purge_command(older_than: str | None, submission_id: str | None, dry_run: bool) -> None:
    """Delete stored files; their leads stay and list them as purged."""
    runtime = command_runtime()  # the database and the media folder only
    if older_than is None and submission_id is None:
        older_than = DEFAULT_RETENTION
    now = clock.now()
    cutoff = None
    if older_than is not None:
        try:
            cutoff = now - timedelta(seconds=duration_seconds(older_than))
        except (ValueError, OverflowError):
            raise click.BadParameter(
                f"{older_than!r} is not an age like 30d", param_hint="--older-than"
            ) from None
    report = purge(
        runtime.db,
        FileStore(runtime.config.media_dir),
        now,
        older_than=cutoff,
        submission_id=submission_id,
        dry_run=dry_run,
    )
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} {report.files} file(s), {report.bytes} bytes")
