"""Submissions for tests, inserted directly (the intake path belongs to app/leads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.db import Database
from app.ids import new_id
from app.models import Submission

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def submission(**values: Any) -> Submission:
    """A valid lead_capture submission unless `values` say otherwise."""
    ident = values.pop("id", None) or new_id()
    defaults: dict[str, Any] = {
        "id": ident,
        "flow": "lead_capture",
        "wa_id": "15550001111",
        "contact_name": "Ada",
        "flow_token": None,
        "source": "webhook",
        "status": "valid",
        "fields": {"name": "Ada", "phone": "+1 555 000 1111"},
        "errors": [],
        "dedup_key": f"message:{ident}",
        "submitted_at": T0,
    }
    defaults.update(values)
    return Submission(**defaults)


def add(db: Database, *rows: Submission) -> list[Submission]:
    with db.transaction() as session:
        session.add_all(rows)
    return list(rows)


def add_series(
    db: Database, n: int, *, step: timedelta = timedelta(minutes=1), **values: Any
) -> list[Submission]:
    """`n` submissions one `step` apart starting at T0."""
    return add(db, *(submission(submitted_at=T0 + i * step, **values) for i in range(n)))
