"""Counts that are only true once their transaction commits (leads stored).

A lead is counted when the transaction that stored it commits, never when it rolls back (the
endpoint routes a request a second time after losing a unique-key race, and a failed
notification is rolled back and reprocessed later). The pending counts ride on the session's
`info` and are applied by a SQLAlchemy `after_commit` listener.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.metrics.counters import LEADS

_KEY = "flowgate.pending_leads"


def note_lead(session: Session, flow: str | None, source: str, status: str) -> None:
    """Count one stored lead when `session`'s transaction commits. `flow` must be a flow
    file's name or None (unrouted), so the label stays bounded."""
    session.info.setdefault(_KEY, []).append((flow or "", source, status))


@event.listens_for(Session, "after_commit")
def _apply(session: Session) -> None:
    for labels in session.info.pop(_KEY, ()):
        LEADS.labels(*labels).inc()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
