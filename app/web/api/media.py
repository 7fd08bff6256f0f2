"""`/api/v1/media/<id>`: a stored upload's bytes, as an attachment (docs/media.md)."""

from __future__ import annotations

from flask import Response

from app.web.api import route
from app.web.media_files import file_response


@route(
    "/media/<media_id>",
    summary="Download an uploaded file (attachment, detected type, nosniff)",
    tag="media",
    errors=(404, 409, 410),
    content_type="application/octet-stream",
)
def get_media(media_id: str) -> Response:
    return file_response(media_id)
