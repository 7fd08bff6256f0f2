"""Leases on media rows and what the worker writes back (the webhook outbox's pattern,
app/delivery/claims.py): claim due pending rows (FOR UPDATE SKIP LOCKED on PostgreSQL),
count the attempt as the fencing token, and write an outcome only while still holding it.

A worker killed mid-download leaves a lease that runs out; the next claim downloads again
from the start into a new staged file (the old one is cleaned up), and the content-addressed
commit keeps one copy: the row is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.media.download import FAILED, RETRY, STORED, FetchResult, MediaJob
from app.media.links import LinkSigner
from app.media.records import release_event
from app.models import Delivery, Event, MediaFile
from app.models.enums import EventType, MediaStatus

# Seconds before each retry of a transient failure; after the last, the file is failed.
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800)


def claim(
    session: Session, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[MediaJob]:
    """Claim up to `limit` due pending files for `owner` (the caller commits promptly)."""
    lease_end = now + timedelta(seconds=lease_seconds)
    due = (
        select(MediaFile.id)
        .where(MediaFile.status == MediaStatus.PENDING.value, MediaFile.next_attempt_at <= now)
        .order_by(MediaFile.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(MediaFile)
        .where(MediaFile.id.in_(due.scalar_subquery()))
        .values(
            lease_owner=owner,
            lease_expires_at=lease_end,
            next_attempt_at=lease_end,
            attempts=MediaFile.attempts + 1,
            updated_at=now,
        )
        .returning(
            MediaFile.id,
            MediaFile.attempts,
            MediaFile.source,
            MediaFile.cdn_url,
            MediaFile.encryption,
            MediaFile.meta_media_id,
            MediaFile.expected_sha256,
            MediaFile.allowed_types,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return [
        MediaJob(
            id=r[0],
            fence=r[1],
            source=r[2],
            cdn_url=r[3],
            encryption=r[4],
            meta_media_id=r[5],
            expected_sha256=r[6],
            allowed_types=tuple(r[7]) if r[7] else None,
        )
        for r in rows
    ]


def record(
    session: Session,
    owner: str,
    job: MediaJob,
    result: FetchResult,
    signer: LinkSigner | None,
    now: datetime,
    delays: Sequence[float] = RETRY_DELAYS,
) -> bool:
    """Write `result` if the claim still holds; release the lead's event once all its
    files are settled. False when the claim was lost (another worker took over)."""
    row = session.get(MediaFile, job.id, with_for_update=True)
    if row is None or row.lease_owner != owner or row.attempts != job.fence:
        return False
    row.lease_owner = None
    row.lease_expires_at = None
    row.updated_at = now
    if result.status == RETRY and job.fence <= len(delays):
        row.next_attempt_at = now + timedelta(seconds=delays[job.fence - 1])
        row.error = result.error  # the last reason, while it is still pending
        return True
    if result.status == STORED:
        row.status = MediaStatus.STORED.value
        row.stored_at = now
        row.error = None
        row.sha256, row.size = result.sha256, result.size
        row.mime_type, row.storage_key = result.mime_type, result.storage_key
    else:
        row.status = MediaStatus.FAILED.value
        reason = result.error or "unknown error"
        row.error = reason if result.status == FAILED else f"gave up after retries: {reason}"
    row.encryption = None  # the per-file keys are useless now; do not keep them
    row.cdn_url = None
    row.next_attempt_at = None
    session.flush()
    left = session.scalar(
        select(MediaFile.id).where(
            MediaFile.submission_id == row.submission_id,
            MediaFile.status == MediaStatus.PENDING.value,
        )
    )
    if left is None:
        release_event(session, row.submission_id, signer, now)
    return True


def release_overdue(
    session: Session, wait_seconds: float, signer: LinkSigner | None, now: datetime
) -> int:
    """Release held events older than FLOWGATE_MEDIA_WAIT_SECONDS (files still pending)."""
    cutoff = now - timedelta(seconds=wait_seconds)
    pending = select(MediaFile.submission_id).where(MediaFile.status == MediaStatus.PENDING.value)
    held = (
        select(Event.submission_id)
        .join(Delivery, Delivery.event_id == Event.id)
        .where(
            Event.type == EventType.FLOW_SUBMITTED.value,
            Event.created_at <= cutoff,
            Event.submission_id.in_(pending),
            Delivery.status == "pending",
            Delivery.attempts == 0,
            Delivery.next_attempt_at > now,
        )
        .distinct()
        .limit(100)
    )
    released = 0
    for submission_id in session.scalars(held).all():
        released += release_event(session, submission_id, signer, now)
    return released
