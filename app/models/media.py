"""Files customers upload through PhotoPicker and DocumentPicker (docs/media.md).

One row per uploaded file, written with its lead in the same transaction and filled in by
the worker: it downloads, verifies, decrypts and stores the bytes, content-addressed by
their SHA-256. The row keeps what the customer gave (`file_name`) apart from what the bytes
are (`mime_type`, detected from the content, never from the name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.ids import new_id
from app.models.base import Base


class MediaFile(Base):
    """One upload of one lead.

    `status`: `pending` (waiting for the worker) | `stored` | `failed` (`error` says why) |
    `purged` (the bytes were deleted by retention; the row and the lead stay). `source`
    says how to fetch it: `endpoint` (Meta's CDN, encrypted: `cdn_url` + `encryption`) or
    `webhook` (a Cloud API media id, fetched through the Graph API). `encryption` holds the
    per-file keys only until the file is done, then it is cleared. Claims work like the
    webhook outbox: `lease_owner`/`lease_expires_at` and `attempts` as the fencing token.
    """

    __tablename__ = "media"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "submission_id", "field", "position", unique=True),
        Index(None, "sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36))
    flow: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))  # endpoint | webhook
    file_name: Mapped[str | None] = mapped_column(String(512))
    meta_media_id: Mapped[str | None] = mapped_column(String(128))
    cdn_url: Mapped[str | None] = mapped_column(Text)
    encryption: Mapped[dict[str, Any] | None]
    expected_sha256: Mapped[str | None] = mapped_column(String(64))
    allowed_types: Mapped[list[Any] | None]
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=now)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    stored_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
