"""Media rows around a lead: written at intake, listed in events and the API, and the
hold that keeps a lead's `flow.submitted` back until its files are settled.

How the outbox holds an event without breaking exactly-once delivery (docs/media.md):
- intake writes the lead, its media rows, the event and its deliveries in one transaction,
  as for any lead, but the deliveries of a lead with files are due only at
  `now + HOLD_CEILING` (nothing else changes: the delivery worker claims them as usual);
- the media worker calls `release_event` when the lead's last file is stored or failed, or
  when FLOWGATE_MEDIA_WAIT_SECONDS have passed (then pending files go as `pending`). It
  locks the event's delivery rows (FOR UPDATE on PostgreSQL; SQLite has one writer), and
  only if no delivery was ever claimed (`attempts == 0`) rewrites the event body with the
  files' current state and makes the deliveries due now;
- once any attempt happened the body is never touched again, so every attempt and every
  endpoint gets the same bytes under the same webhook-id, as for any other event. If the
  media worker is not running at all, the ceiling releases the event with `pending` files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.media.extract import Upload
from app.media.links import LinkSigner
from app.models import Delivery, Event, MediaFile
from app.models.enums import EventType, MediaStatus
from app.models.outbox import serialise

HOLD_CEILING = 3600.0  # seconds: the longest a lead's event waits, even with no media worker
_INSERT = insert(MediaFile.__table__)


def attach_uploads(
    session: Session,
    submission_id: str,
    flow: str,
    uploads: Sequence[Upload],
    allowed_types: list[str] | None,
    now: datetime,
) -> None:
    """Insert one pending media row per upload (the caller's transaction)."""
    session.connection().execute(
        _INSERT,
        [
            {
                "id": u.id,
                "submission_id": submission_id,
                "flow": flow,
                "field": u.field,
                "position": u.position,
                "source": u.source,
                "file_name": u.file_name,
                "meta_media_id": u.meta_media_id,
                "cdn_url": u.cdn_url,
                "encryption": u.encryption,
                "expected_sha256": u.expected_sha256,
                "allowed_types": allowed_types,
                "status": MediaStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for u in uploads
        ],
    )


def pending_entries(uploads: Sequence[Upload]) -> list[dict[str, Any]]:
    """The `media` list of a lead whose files are not fetched yet."""
    return [
        {
            "id": u.id,
            "field": u.field,
            "file_name": u.file_name,
            "mime_type": None,
            "size": None,
            "sha256": None,
            "status": MediaStatus.PENDING.value,
            "error": None,
            "url": None,
        }
        for u in uploads
    ]


def entry(row: MediaFile, signer: LinkSigner | None, now: datetime) -> dict[str, Any]:
    """One file as events and the API show it; `url` only for a stored file."""
    stored = row.status == MediaStatus.STORED
    return {
        "id": row.id,
        "field": row.field,
        "file_name": row.file_name,
        "mime_type": row.mime_type,
        "size": row.size,
        "sha256": row.sha256,
        "status": row.status,
        "error": row.error,
        "url": signer.url(row.id, now) if stored and signer is not None else None,
    }


def rows_of(session: Session, submission_id: str) -> list[MediaFile]:
    query = (
        select(MediaFile)
        .where(MediaFile.submission_id == submission_id)
        .order_by(MediaFile.field, MediaFile.position)
    )
    return list(session.scalars(query))


def media_entries(
    session: Session, submission_id: str, signer: LinkSigner | None, now: datetime
) -> list[dict[str, Any]]:
    return [entry(row, signer, now) for row in rows_of(session, submission_id)]


def hold_event(session: Session, event_id: str, now: datetime) -> None:
    """Make a new event's deliveries due only at the ceiling (see the module docstring)."""
    session.execute(
        update(Delivery)
        .where(Delivery.event_id == event_id, Delivery.attempts == 0)
        .values(next_attempt_at=now + timedelta(seconds=HOLD_CEILING))
        .execution_options(synchronize_session=False)
    )


def release_event(
    session: Session, submission_id: str, signer: LinkSigner | None, now: datetime
) -> bool:
    """Rewrite the lead's unsent flow.submitted with its files' state and make it due now.
    False when there is no such event or an attempt already happened (then it stays as is)."""
    event = session.scalars(
        select(Event).where(
            Event.submission_id == submission_id, Event.type == EventType.FLOW_SUBMITTED.value
        )
    ).first()
    if event is None:
        return False
    deliveries = session.scalars(
        select(Delivery).where(Delivery.event_id == event.id).with_for_update()
    ).all()
    if any(d.attempts > 0 or d.status != "pending" for d in deliveries):
        return False
    payload = json.loads(event.body)
    payload["data"]["media"] = media_entries(session, submission_id, signer, now)
    event.body = serialise(payload)
    for delivery in deliveries:
        delivery.next_attempt_at = now
        delivery.updated_at = now
    return True


def annotate(
    session: Session, submissions: Sequence[Any], signer: LinkSigner | None, now: datetime
) -> None:
    """Give each submission its `media_entries` (one query for the whole page)."""
    ids = [s.id for s in submissions]
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        query = (
            select(MediaFile)
            .where(MediaFile.submission_id.in_(ids))
            .order_by(MediaFile.field, MediaFile.position)
        )
        for row in session.scalars(query):
            found[row.submission_id].append(entry(row, signer, now))
    for submission in submissions:
        submission.media_entries = found[submission.id]
