"""Which bytes a download returns, and the headers that keep a browser from running them.

Uploads may be malicious (docs/protocol.md, "Media uploads"), so a file is only ever an
attachment: `Content-Disposition: attachment`, the type detected from its bytes, and
`X-Content-Type-Options: nosniff` plus a CSP sandbox so that nothing renders or runs it
inline even when opened directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.errors import Conflict, FlowgateError, NotFound
from app.media.storage import MediaStore
from app.media.types import UNKNOWN
from app.models import MediaFile
from app.models.enums import MediaStatus

SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\"<>:|?*]+")


class MediaGone(FlowgateError):
    code = "media_gone"
    status = 410


@dataclass(frozen=True)
class Download:
    stream: BinaryIO
    mime_type: str
    size: int | None
    file_name: str


def safe_name(row: MediaFile) -> str:
    """The customer's file name without path parts or control characters (else the id)."""
    name = _UNSAFE_NAME.sub("_", (row.file_name or "").strip()).strip(" ._")[:200]
    return name or row.id


def open_download(session: Session, store: MediaStore, media_id: str) -> Download:
    """The stored bytes of `media_id`, or a typed error saying why there are none."""
    row = session.get(MediaFile, media_id) if len(media_id) <= 36 else None
    if row is None:
        raise NotFound(f"no media {media_id!r}")
    if row.status == MediaStatus.PENDING:
        raise Conflict("the file is not downloaded yet", code="media_pending")
    if row.status == MediaStatus.FAILED:
        raise MediaGone(f"the file could not be fetched: {row.error}")
    if row.status == MediaStatus.PURGED or not row.storage_key:
        raise MediaGone("the file was purged by retention")
    try:
        stream = store.open(row.storage_key)
    except FileNotFoundError:
        raise MediaGone("the stored file is missing") from None
    return Download(stream, row.mime_type or UNKNOWN, row.size, safe_name(row))
