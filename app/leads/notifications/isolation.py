"""Each item of a notification in its own savepoint: one item's failure never holds back another.

A notification may batch several messages, statuses and alerts (docs/protocol.md §9). When one
of them fails (a bug, a value a driver refuses), its savepoint is rolled back, the failure is
noted on the report naming that item, and the others commit; the notification row is then
kept `failed` so `flowgate inbox reprocess` redoes it (processing is idempotent, so the items
already stored are not stored twice). See docs/leads.md, "Integrity".

A unique-key conflict is not contained: it means a concurrent delivery of the same items won a
race, and the inbox retries the whole notification, which then finds the winner's rows.
A notification with a single item needs no savepoint (its failure is the notification's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.leads.notifications.reader import Report, items, obj

log = logging.getLogger("flowgate.meta")


@contextmanager
def isolated(session: Session, report: Report, where: str, label: str | None) -> Iterator[None]:
    """Run the body in a savepoint when the report asks for isolation; contain its failure."""
    if not report.isolate:
        yield
        return
    try:
        with session.begin_nested():
            yield
    except IntegrityError:
        raise
    except Exception as exc:
        name = f"{where} ({label})" if label else where
        log.exception("notification %s: %s failed; the other items go on", report.source, name)
        report.fail(name, f"{type(exc).__name__}: {exc}"[:300])


def item_count(payload: dict[str, Any]) -> int:
    """How many separately processed items (messages, statuses, alerts) `payload` holds."""
    count = 0
    for raw_entry in items(payload.get("entry")):
        for raw_change in items((obj(raw_entry) or {}).get("changes")):
            value = obj((obj(raw_change) or {}).get("value")) or {}
            count += len(items(value.get("messages"))) + len(items(value.get("statuses"))) or 1
    return count
