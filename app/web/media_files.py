"""Serving stored uploads: the admin route's and the signed link's shared response.

`GET /media/<id>?expires=&signature=` (this blueprint, no admin token: the signature is
the credential, app/media/links.py) and `GET /api/v1/media/<id>` (app/web/api/media.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, send_file

from app import clock
from app.errors import NotFound
from app.media.links import signer_from
from app.media.serving import SAFETY_HEADERS, open_download
from app.media.storage import FileStore
from app.web import db_session, runtime

bp = Blueprint("media_links", __name__)


def media_store() -> FileStore:
    """The app's file store (built once per app)."""
    store = current_app.extensions.get("flowgate_media_store")
    if store is None:
        store = FileStore(runtime().config.media_dir)
        current_app.extensions["flowgate_media_store"] = store
    return store


def file_response(media_id: str) -> Response:
    """The file as an attachment with the detected type and the safety headers."""
    download = open_download(db_session(), media_store(), media_id)
    response = send_file(
        download.stream,
        mimetype=download.mime_type,
        as_attachment=True,
        download_name=download.file_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    if download.size is not None:
        response.content_length = download.size
    response.headers.update(SAFETY_HEADERS)
    return response


@bp.get("/media/<media_id>")
def signed_download(media_id: str) -> Response:
    """A signed, unexpired link gets the file; anything else is the same 404."""
    signer = signer_from(runtime().config)
    expires = request.args.get("expires", "")
    signature = request.args.get("signature", "")
    if signer is None or not signer.valid(media_id, expires, signature, clock.now()):
        raise NotFound("no such link, or it has expired")
    return file_response(media_id)
