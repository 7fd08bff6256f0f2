"""`flowgate inbox reprocess`: process again Meta notifications that failed or got stuck.

A notification is stored before it is processed (app/leads/inbox.py); when processing fails
the row is kept as `failed`. This command retries every failed row and every `pending` row
older than five minutes (a process that died mid-request), or exactly the rows named with
`--id` (any status: processing is idempotent, so a processed row changes only what is new,
e.g. an nfm_reply that matched no flow before a flow was added).
"""

from __future__ import annotations

import sys

import click

from app.automations import install as install_automations
from app.cli.needs import command_runtime
from app.leads.inbox import PROCESSED, Inbox, reprocess
from app.settings_check import Need


@click.group("inbox")
def inbox_group() -> None:
    """Stored Meta webhook notifications."""


@inbox_group.command("reprocess")
@click.option("--id", "ids", multiple=True, metavar="ID", help="Only this notification (repeat).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many notifications.")
def reprocess_command(ids: tuple[str, ...], limit: int | None) -> None:
    """Process failed (and stale pending) notifications again; exit 1 if any still fail."""
    runtime = command_runtime(Need.TOKEN_SECRET, flows=True)
    install_automations()  # statuses of automated sends update them (app/automations)
    inbox = Inbox(runtime.db, runtime.registry, runtime.config.token_secret)
    receipts = reprocess(inbox, ids, limit=limit)
    missing = set(ids) - {r.notification_id for r in receipts}
    for receipt in receipts:
        line = f"{receipt.notification_id} {receipt.status}"
        click.echo(line + (f" ({receipt.problem})" if receipt.problem else ""))
    for notification_id in sorted(missing):
        click.echo(f"{notification_id} not found", err=True)
    done = sum(1 for r in receipts if r.status == PROCESSED)
    click.echo(f"{done} of {len(receipts)} notification(s) processed.", err=True)
    if done < len(receipts) or missing:
        sys.exit(1)
