"""Finding uploads in a lead's fields and turning them into media rows to fetch.

Meta sends a picker's value as the value of a top-level payload key (docs/flow-json.md), in
one of two shapes (docs/protocol.md, "Media uploads"):
- endpoint (`data_exchange`/`complete` payloads): `[{"file_name", "media_id", "cdn_url",
  "encryption_metadata": {"encrypted_hash", "iv", "encryption_key", "hmac_key",
  "plaintext_hash"}}]`, the file encrypted on Meta's CDN;
- webhook (nfm_reply `response_json`): Cloud API media `[{"id", "sha256", "mime_type",
  "file_name"?}]`, fetched through the Graph API.
Values are recognised by shape, so a flow needs no extra declaration. In the stored lead the
value becomes the list of Flowgate media ids: the CDN URL and the per-file keys never reach
events, the API or CSV; they live on the media row only until the file is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.flowjson.pickers import ENCRYPTION_KEYS
from app.ids import new_id

MAX_FILES_PER_LEAD = 100  # Meta allows 30 per data_exchange; anything beyond is not a picker
_MEDIA_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass(frozen=True)
class Upload:
    """One file named in a lead, before the worker fetched it."""

    id: str
    field: str
    position: int
    source: str  # endpoint | webhook
    file_name: str | None
    meta_media_id: str | None
    cdn_url: str | None
    encryption: dict[str, str] | None
    expected_sha256: str | None


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _endpoint_item(item: Mapping[str, Any]) -> bool:
    meta = item.get("encryption_metadata")
    return (
        isinstance(item.get("cdn_url"), str)
        and isinstance(meta, Mapping)
        and all(isinstance(meta.get(k), str) for k in ENCRYPTION_KEYS)
    )


def _webhook_item(item: Mapping[str, Any]) -> bool:
    media_id = item.get("id")
    return (
        isinstance(media_id, str)
        and _MEDIA_ID.match(media_id) is not None
        and "cdn_url" not in item
        and (isinstance(item.get("sha256"), str) or isinstance(item.get("mime_type"), str))
    )


def is_upload_list(value: Any) -> bool:
    """A picker's value: a non-empty list whose items all have one of the two shapes."""
    if not isinstance(value, list) or not value or len(value) > MAX_FILES_PER_LEAD:
        return False
    items = [i for i in value if isinstance(i, Mapping)]
    if len(items) != len(value):
        return False
    return all(_endpoint_item(i) for i in items) or all(_webhook_item(i) for i in items)


def extract_uploads(fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[Upload]]:
    """The fields with each picker value replaced by its media ids, and the uploads."""
    out = dict(fields)
    uploads: list[Upload] = []
    for name, value in fields.items():
        if not is_upload_list(value) or len(uploads) + len(value) > MAX_FILES_PER_LEAD:
            continue
        ids = []
        for position, item in enumerate(value):
            upload = _upload(str(name)[:128], position, item)
            uploads.append(upload)
            ids.append(upload.id)
        out[name] = ids
    return out, uploads


def _upload(field: str, position: int, item: Mapping[str, Any]) -> Upload:
    if "cdn_url" in item:
        meta = item["encryption_metadata"]
        return Upload(
            id=new_id(),
            field=field,
            position=position,
            source="endpoint",
            file_name=_text(item.get("file_name"), 512),
            meta_media_id=_text(item.get("media_id"), 128),
            cdn_url=item["cdn_url"][:4096],
            encryption={k: str(meta[k])[:512] for k in ENCRYPTION_KEYS},
            expected_sha256=None,
        )
    return Upload(
        id=new_id(),
        field=field,
        position=position,
        source="webhook",
        file_name=_text(item.get("file_name"), 512),
        meta_media_id=str(item["id"]),
        cdn_url=None,
        encryption=None,
        expected_sha256=_text(item.get("sha256"), 128),
    )
