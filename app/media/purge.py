"""Retention: delete stored files, keep the leads (docs/media.md, "Retention").

A purged file's row stays with `status = "purged"` and `purged_at`, so the lead still says
that it had a file, what it was called and its hash. Rows are marked first (one
transaction), then the bytes are deleted; content shared by several rows (the same file
uploaded twice) is deleted only when no stored row refers to it any more. A crash between
the two steps leaves at most unreferenced bytes, never a stored row without its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.db import Database
from app.media.storage import MediaStore
from app.models import MediaFile
from app.models.enums import MediaStatus


@dataclass
class PurgeReport:
    files: int = 0
    bytes: int = 0
    deleted_objects: int = 0


def purge(
    db: Database,
    store: MediaStore,
    now: datetime,
    *,
    older_than: datetime | None = None,
    submission_id: str | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Purge stored files created before `older_than`, or all of one submission's."""
    if older_than is None and submission_id is None:
        raise ValueError("say which files: older_than and/or submission_id")
    report = PurgeReport()
    query = select(MediaFile).where(MediaFile.status == MediaStatus.STORED.value)
    if older_than is not None:
        query = query.where(MediaFile.created_at < older_than)
    if submission_id is not None:
        query = query.where(MediaFile.submission_id == submission_id)
    keys: set[str] = set()
    with db.transaction() as session:
        for row in session.scalars(query.with_for_update()):
            report.files += 1
            report.bytes += row.size or 0
            if row.storage_key:
                keys.add(row.storage_key)
            if not dry_run:
                row.status = MediaStatus.PURGED.value
                row.purged_at = now
                row.updated_at = now
        if dry_run:
            session.rollback()
            return report
    for key in sorted(keys):
        with db.session() as session:
            still = session.scalar(
                select(MediaFile.id).where(
                    MediaFile.storage_key == key, MediaFile.status == MediaStatus.STORED.value
                )
            )
        if still is None:
            store.delete(key)
            report.deleted_objects += 1
    return report
