"""The submission JSON Schema of a PhotoPicker or DocumentPicker value (docs/media.md).

What Meta sends for a picker (docs/protocol.md, "Media uploads"): an array of uploads,
each either an endpoint upload `{file_name, media_id, cdn_url, encryption_metadata{...}}` or
a Cloud API media `{id, sha256, mime_type, file_name?}` in an nfm_reply. Item counts follow
`min-uploaded-photos`/`max-uploaded-photos` (or `-documents`); more than 0 minimum makes the
field required (docs/flow-json.md).
"""

from __future__ import annotations

from typing import Any

# The keys of an endpoint upload's `encryption_metadata` (docs/protocol.md §4.1).
ENCRYPTION_KEYS = ("encrypted_hash", "iv", "encryption_key", "hmac_key", "plaintext_hash")

ENDPOINT_UPLOAD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file_name": {"type": "string"},
        "media_id": {"type": "string"},
        "cdn_url": {"type": "string"},
        "encryption_metadata": {
            "type": "object",
            "properties": {key: {"type": "string"} for key in ENCRYPTION_KEYS},
            "required": list(ENCRYPTION_KEYS),
        },
    },
    "required": ["cdn_url", "encryption_metadata"],
}
CLOUD_MEDIA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "sha256": {"type": "string"},
        "mime_type": {"type": "string"},
        "file_name": {"type": "string"},
    },
    "required": ["id"],
}


def _count(node: dict[str, Any], kind: str, bound: str) -> int | None:
    noun = "photos" if kind == "PhotoPicker" else "documents"
    value = node.get(f"{bound}-uploaded-{noun}")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def picker_schema(node: dict[str, Any], kind: str) -> dict[str, Any]:
    """An array of uploads in either shape, with the component's item limits."""
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"anyOf": [ENDPOINT_UPLOAD, CLOUD_MEDIA]},
    }
    low, high = _count(node, kind, "min"), _count(node, kind, "max")
    if low:
        schema["minItems"] = low
    if high is not None:
        schema["maxItems"] = high
    return schema


def picker_required(node: dict[str, Any], kind: str) -> bool:
    """A picker with a minimum above 0 must be answered."""
    return bool(_count(node, kind, "min"))
