"""What a file is, judged from its bytes, and whether a flow accepts it.

The name and the type a client claims are the customer's word; the magic bytes are the
file's. Detection uses the `filetype` library (signatures of the first 8 KiB); bytes it
does not recognise are `application/octet-stream`, which no default allow-list accepts.
Meta warns that uploads may be malicious (docs/protocol.md, "Media uploads").
"""

from __future__ import annotations

from collections.abc import Iterable

import filetype

UNKNOWN = "application/octet-stream"
DETECT_BYTES = 8192


def detect_mime(head: bytes) -> str:
    """The MIME type the first bytes of a file show, or application/octet-stream."""
    kind = filetype.guess(head[:DETECT_BYTES]) if head else None
    return kind.mime if kind is not None else UNKNOWN


def allowed(mime: str, patterns: Iterable[str]) -> bool:
    """`mime` matches one of `patterns` (`image/png`, `image/*`, or `*/*` for anything)."""
    major = mime.split("/", 1)[0]
    for pattern in patterns:
        p = pattern.strip().lower()
        if p in ("*", "*/*") or p == mime or (p.endswith("/*") and p[:-2] == major):
            return True
    return False


def flow_media_types(module: object | None) -> list[str] | None:
    """A flow's own allow-list: `MEDIA_TYPES = [...]` in flows/<flow>.py, else None."""
    value = getattr(module, "MEDIA_TYPES", None) if module is not None else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v.lower() for v in value]
    return None
