"""End to end: a PhotoPicker lead through the endpoint and a DocumentPicker lead through the
webhook each end with the file stored byte-identical and a signed link that works."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select

from app.crypto.tokens import issue_token
from app.db import Database
from app.models import MediaFile, Submission
from tests.delivery.conftest import add_endpoint, run_worker, verify
from tests.delivery.receiver import Receiver
from tests.endpoint.conftest import TOKEN_SECRET, make_client
from tests.leads.meta import nfm_reply, post
from tests.media.conftest import JPEG, PDF, run_media
from tests.media.fakes import FakeMeta


def _delivered_event(db: Database, rx: Receiver) -> dict[str, Any]:
    with db.session() as session:
        from app.models import WebhookEndpoint

        secret = session.scalars(select(WebhookEndpoint.secret)).one()
    [request] = rx.requests
    return verify(request, secret)


def _fetch_link(app: Flask, url: str) -> tuple[int, bytes, dict[str, str]]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://flowgate.test"
    response = app.test_client().get(f"{parts.path}?{parts.query}")
    return response.status_code, response.data, dict(response.headers)


def _check_delivered_file(
    app: Flask, db: Database, settings: dict[str, str], event: dict[str, Any], original: bytes
) -> None:
    [media] = event["data"]["media"]
    assert media["status"] == "stored" and media["error"] is None
    assert media["sha256"] == hashlib.sha256(original).hexdigest()
    assert media["size"] == len(original)
    status, body, headers = _fetch_link(app, media["url"])
    assert status == 200 and body == original
    assert hashlib.sha256(body).hexdigest() == media["sha256"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith("attachment")
    assert headers["Content-Type"] == media["mime_type"]
    with db.session() as session:
        row = session.get(MediaFile, media["id"])
        assert row is not None and row.storage_key is not None
    assert (Path(settings["FLOWGATE_MEDIA_DIR"]) / row.storage_key).read_bytes() == original


def test_photo_picker_lead_through_the_endpoint(
    app: Flask,
    db: Database,
    settings: dict[str, str],
    fake: FakeMeta,
    private_key: rsa.RSAPrivateKey,
    receiver: Callable[..., Receiver],
) -> None:
    rx = receiver()
    add_endpoint(db, rx.url)
    item = fake.cdn_upload(JPEG, name="damage.jpg")
    wa = make_client(app, private_key, "damage_photo")
    wa.init()
    answer = wa.exchange("DAMAGE", {"name": "Ana", "photos": [item]})
    assert answer["screen"] == "SUCCESS", answer

    run_worker(db, max_seconds=3)  # held: nothing is sent before the file is settled
    assert rx.requests == []
    run_media(db, settings)
    run_worker(db)

    event = _delivered_event(db, rx)
    assert event["type"] == "flow.submitted"
    assert event["data"]["fields"]["photos"] == [event["data"]["media"][0]["id"]]
    _check_delivered_file(app, db, settings, event, JPEG)
    assert event["data"]["media"][0]["mime_type"] == "image/jpeg"
    assert event["data"]["media"][0]["field"] == "photos"
    assert event["data"]["media"][0]["file_name"] == "damage.jpg"


def test_document_picker_lead_through_the_webhook(
    app: Flask,
    client: Any,
    db: Database,
    settings: dict[str, str],
    fake: FakeMeta,
    receiver: Callable[..., Receiver],
) -> None:
    rx = receiver()
    add_endpoint(db, rx.url)
    wa_id = "5511912345678"
    token = issue_token(TOKEN_SECRET, flow="id_document", wa_id=wa_id).flow_token
    item = fake.cloud_media(PDF, "987654321")
    response = post(client, nfm_reply({"name": "Ana", "id_copy": [item]}, token=token))
    assert response.status_code == 200
    with db.session() as session:
        lead = session.scalars(select(Submission)).one()
    assert (lead.flow, lead.status, lead.source) == ("id_document", "valid", "webhook")

    run_media(db, settings)
    run_worker(db)

    event = _delivered_event(db, rx)
    _check_delivered_file(app, db, settings, event, PDF)
    assert event["data"]["media"][0]["mime_type"] == "application/pdf"
    # the submission's JSON in the API lists the same file
    body = json.loads(
        client.get(
            f"/api/v1/submissions/{lead.id}", headers={"Authorization": "Bearer test-api-token"}
        ).data
    )
    assert [m["id"] for m in body["media"]] == [m["id"] for m in event["data"]["media"]]
    assert body["media"][0]["status"] == "stored"
