"""One notification, every entry and change in it, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.leads.notifications.alerts import record_alert
from app.leads.notifications.isolation import isolated, item_count
from app.leads.notifications.messages import process_messages_change
from app.leads.notifications.reader import WABA_OBJECT, ProcessingContext, Report, items, obj


def process_notification(
    session: Session, ctx: ProcessingContext, payload: dict[str, Any]
) -> Report:
    """Apply a parsed notification (see `reader.parse_notification`); returns what was done.

    Items of the wrong shape are skipped with a note and never stop the others; an item that
    fails is rolled back alone and listed in `report.failures` (isolation.py). An exception
    out of here is a database failure (or the only item's), and the caller rolls back.
    """
    report = Report(isolate=item_count(payload) > 1, source=ctx.notification_id)
    kind = payload.get("object")
    if kind is not None and kind != WABA_OBJECT:
        report.note("object", f"{str(kind)[:64]!r} notifications are ignored")
        return report
    for e, raw_entry in enumerate(items(payload.get("entry"))):
        entry = obj(raw_entry)
        if entry is None or not isinstance(entry.get("changes"), list):
            report.note(f"entry[{e}]", "entry without a list of changes")
            continue
        for c, raw_change in enumerate(entry["changes"]):
            where = f"entry[{e}].changes[{c}]"
            change = obj(raw_change)
            value = obj(change.get("value")) if change is not None else None
            if change is None or value is None:
                report.note(where, "change without an object value")
                continue
            field = change.get("field")
            if field == "messages":
                process_messages_change(session, ctx, value, where, report)
            elif field == "flows":
                with isolated(session, report, where, "flows alert"):
                    record_alert(session, ctx, entry, value, report)
            else:
                report.note(where, f"field {str(field)[:64]!r} is not handled")
    return report
