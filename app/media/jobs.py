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

from sqlalchemy import bindparam, null, select, update
from sqlalchemy.orm import Session

from app.media.download import FAILED, RETRY, STORED, FetchResult, MediaJob
from app.media.links import LinkSigner
from app.media.records import release_event
from app.models import Delivery, Event, MediaFile, Submission
from app.models.enums import EventType, MediaStatus

_MEDIA = MediaFile.__table__
_LEADS = Submission.__table__
_LOCK_LEAD = select(_LEADS.c.id).where(_LEADS.c.id == bindparam("sid")).with_for_update()
_LEFT = (
    select(_MEDIA.c.id)
    .where(_MEDIA.c.submission_id == bindparam("sid"), _MEDIA.c.status == "pending")
    .limit(1)
)
_DUE = (
    select(_MEDIA.c.id)
    .where(_MEDIA.c.status == "pending", _MEDIA.c.next_attempt_at <= bindparam("now"))
    .order_by(_MEDIA.c.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(_MEDIA)
    .where(_MEDIA.c.id.in_(_DUE.scalar_subquery()))
    .values(
        lease_owner=bindparam("owner"),
        lease_expires_at=bindparam("lease_end"),
        next_attempt_at=bindparam("lease_end"),
        attempts=_MEDIA.c.attempts + 1,
        updated_at=bindparam("now"),
    )
    .returning(
        _MEDIA.c.id,
        _MEDIA.c.attempts,
        _MEDIA.c.source,
        _MEDIA.c.cdn_url,
        _MEDIA.c.encryption,
        _MEDIA.c.meta_media_id,
        _MEDIA.c.expected_sha256,
        _MEDIA.c.allowed_types,
        _MEDIA.c.submission_id,
    )
)
# Results, built once (this runs for every file; building a statement costs more than
# running it). Only the claim's holder may write (lease owner and fencing token).
_HELD = (
    (_MEDIA.c.id == bindparam("b_id"))
    & (_MEDIA.c.lease_owner == bindparam("owner"))
    & (_MEDIA.c.attempts == bindparam("fence"))
)
_RETRY = (
    update(_MEDIA)
    .where(_HELD)
    .values(
        lease_owner=null(),
        lease_expires_at=null(),
        updated_at=bindparam("now"),
        next_attempt_at=bindparam("next"),
        error=bindparam("b_error"),
    )
    .returning(_MEDIA.c.submission_id)
)
_SETTLE = (
    update(_MEDIA)
    .where(_HELD)
    .values(
        lease_owner=null(),
        lease_expires_at=null(),
        updated_at=bindparam("now"),
        next_attempt_at=null(),
        status=bindparam("b_status"),
        stored_at=bindparam("b_stored_at"),
        error=bindparam("b_error"),
        sha256=bindparam("b_sha256"),
        size=bindparam("b_size"),
        mime_type=bindparam("b_mime_type"),
        storage_key=bindparam("b_storage_key"),
        # the per-file keys and the CDN URL are useless now: do not keep them
        encryption=null(),
        cdn_url=null(),
    )
    .returning(_MEDIA.c.submission_id)
)
# Seconds before each retry of a transient failure; after the last, the file is failed.
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800)


def claim(
    session: Session, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[MediaJob]:
    """Claim up to `limit` due pending files for `owner` (the caller commits promptly)."""
    lease_end = now + timedelta(seconds=lease_seconds)
    rows = session.execute(
        _CLAIM,
        {"now": now, "limit": limit, "owner": owner, "lease_end": lease_end},
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
            submission_id=r[8],
        )
        for r in rows
    ]


def release(session: Session, owner: str, claimed: Sequence[MediaJob], now: datetime) -> None:
    """Hand back claims not started (due now, the attempt not counted)."""
    for job in claimed:
        session.execute(
            update(MediaFile)
            .where(
                MediaFile.id == job.id,
                MediaFile.lease_owner == owner,
                MediaFile.attempts == job.fence,
            )
            .values(
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=now,
                attempts=MediaFile.attempts - 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


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
    settled = not (result.status == RETRY and job.fence <= len(delays))
    params: dict[str, object] = {"b_id": job.id, "owner": owner, "fence": job.fence, "now": now}
    if not settled:
        params["next"] = now + timedelta(seconds=delays[job.fence - 1])
        params["b_error"] = result.error  # the last reason, while it is still pending
        submission_id = session.execute(_RETRY, params).scalar()
    else:
        stored = result.status == STORED
        reason = result.error or "unknown error"
        if not stored and result.status != FAILED:
            reason = f"gave up after retries: {reason}"
        params.update(
            b_status=MediaStatus.STORED.value if stored else MediaStatus.FAILED.value,
            b_stored_at=now if stored else None,
            b_error=None if stored else reason,
            b_sha256=result.sha256,
            b_size=result.size,
            b_mime_type=result.mime_type,
            b_storage_key=result.storage_key,
        )
        if job.submission_id:
            # Two workers settling the last two files of one lead at once must not both see
            # the other's file still pending (PostgreSQL, READ COMMITTED): whoever settles a
            # file first locks the lead's row, so the second sees the first's result.
            # (SQLite has one writer; the clause is dropped.)
            session.execute(_LOCK_LEAD, {"sid": job.submission_id})
        submission_id = session.execute(_SETTLE, params).scalar()
    if submission_id is None:
        return False
    if settled and session.execute(_LEFT, {"sid": submission_id}).first() is None:
        release_event(session, submission_id, signer, now)
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
