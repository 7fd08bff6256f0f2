"""Download, verify, decrypt and store against the loopback fakes, on both databases."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import Database
from app.models import Event, MediaFile
from tests.media.conftest import EXE, JPEG, PDF, media_worker, run_media, submit
from tests.media.fakes import FakeMeta


def rows(db: Database) -> list[MediaFile]:
    with db.session() as session:
        return list(session.scalars(select(MediaFile).order_by(MediaFile.position)))


def stored_bytes(settings: dict[str, str], row: MediaFile) -> bytes:
    assert row.storage_key is not None
    return (Path(settings["FLOWGATE_MEDIA_DIR"]) / row.storage_key).read_bytes()


def photo_lead(app: Flask, *items: dict[str, Any]) -> str:
    return submit(app, "damage_photo", {"name": "Ana", "photos": list(items)})


def test_endpoint_upload_is_stored_byte_identical(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cdn_upload(JPEG, name="../../etc/damage.jpg")
    submission_id = photo_lead(app, item)
    [row] = rows(db)
    assert (row.status, row.encryption is not None) == ("pending", True)

    worker = run_media(db, settings)

    [row] = rows(db)
    assert worker.stats.stored == 1
    assert row.status == "stored" and row.error is None
    assert stored_bytes(settings, row) == JPEG
    assert row.sha256 == hashlib.sha256(JPEG).hexdigest() and row.size == len(JPEG)
    assert row.mime_type == "image/jpeg"  # from the bytes, not from the name
    assert row.file_name == "../../etc/damage.jpg"  # kept as given, never used as a path
    assert row.encryption is None and row.cdn_url is None  # keys dropped once done
    assert row.submission_id == submission_id
    media_dir = Path(settings["FLOWGATE_MEDIA_DIR"])
    assert media_dir.stat().st_mode & 0o777 == 0o700
    assert not list((media_dir / "tmp").iterdir())


def test_lead_fields_hold_media_ids_not_keys(app: Flask, db: Database, fake: FakeMeta) -> None:
    item = fake.cdn_upload(JPEG)
    submission_id = photo_lead(app, item)
    [row] = rows(db)
    with db.session() as session:
        event = session.scalars(select(Event)).one()
        from app.models import Submission

        lead = session.get(Submission, submission_id)
    assert lead is not None and lead.status == "valid", lead.errors
    assert lead.fields["photos"] == [row.id]
    assert "encryption_key" not in event.body and item["cdn_url"] not in event.body
    data = json.loads(event.body)["data"]
    assert data["media"] == [
        {
            "id": row.id,
            "field": "photos",
            "file_name": "photo.jpg",
            "mime_type": None,
            "size": None,
            "sha256": None,
            "status": "pending",
            "error": None,
            "url": None,
        }
    ]


def _metadata(item: dict[str, Any], **changes: str) -> dict[str, Any]:
    return {**item, "encryption_metadata": {**item["encryption_metadata"], **changes}}


def _flip(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered_hash", "encrypted_hash mismatch"),
        ("tampered_hmac", "HMAC mismatch"),
        ("wrong_key", "decryption failed"),
        ("wrong_plaintext_hash", "plaintext_hash mismatch"),
        ("truncated", "encrypted_hash mismatch"),
        ("tampered_file", "encrypted_hash mismatch"),
        ("not_allowed_type", "type application/x-msdownload is not allowed"),
    ],
)
def test_bad_files_fail_with_a_reason_and_store_nothing(
    app: Flask,
    db: Database,
    settings: dict[str, str],
    fake: FakeMeta,
    case: str,
    reason: str,
) -> None:
    item = fake.cdn_upload(EXE if case == "not_allowed_type" else JPEG)
    served = fake.paths[item["cdn_url"].removeprefix(fake.base)]
    meta = item["encryption_metadata"]
    if case == "tampered_hash":
        item = _metadata(item, encrypted_hash=_flip(meta["encrypted_hash"]))
    elif case == "tampered_hmac":
        item = _metadata(item, hmac_key=_flip(meta["hmac_key"]))
    elif case == "wrong_key":
        item = _metadata(item, encryption_key=_flip(meta["encryption_key"]))
    elif case == "wrong_plaintext_hash":
        item = _metadata(item, plaintext_hash=_flip(meta["plaintext_hash"]))
    elif case == "truncated":
        served.body = served.body[:-100]
    elif case == "tampered_file":
        body = bytearray(served.body)
        body[20] ^= 0xFF
        served.body = bytes(body)
    photo_lead(app, item)

    run_media(db, settings)

    [row] = rows(db)
    assert row.status == "failed"
    assert row.error is not None and reason in row.error
    assert row.storage_key is None and row.encryption is None
    media_dir = Path(settings["FLOWGATE_MEDIA_DIR"])
    assert not list(media_dir.glob("sha256/*/*"))
    assert not list((media_dir / "tmp").iterdir())


def test_a_flow_may_allow_other_types(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    flows = Path(settings["FLOWGATE_FLOWS_DIR"])
    (flows / "damage_photo.py").write_text('MEDIA_TYPES = ["application/*"]\n')
    from app import create_app
    from tests.conftest import make_config

    other = create_app(make_config(settings))
    try:
        photo_lead(other, fake.cdn_upload(EXE), fake.cdn_upload(JPEG))
    finally:
        other.extensions["flowgate"].db.dispose()
    run_media(db, settings)
    exe, jpeg = rows(db)
    assert exe.status == "stored" and exe.mime_type == "application/x-msdownload"
    assert jpeg.status == "failed" and "image/jpeg is not allowed" in (jpeg.error or "")


@pytest.mark.parametrize("announce", [True, False])
def test_over_size_is_refused(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta, announce: bool
) -> None:
    """Refused on the announced length, or while streaming when there is none."""
    big = JPEG + bytes(2_000_000)
    item = fake.cdn_upload(big, announce=announce, chunk=16_384)
    photo_lead(app, item)
    run_media(db, {**settings, "FLOWGATE_MAX_MEDIA_BYTES": "100000"})
    [row] = rows(db)
    assert row.status == "failed" and "too large" in (row.error or "")
    assert ("announced" in (row.error or "")) == announce
    assert not list(Path(settings["FLOWGATE_MEDIA_DIR"]).glob("sha256/*/*"))


def test_host_outside_the_allow_list_is_never_resolved_or_dialled(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = {**fake.cdn_upload(JPEG), "cdn_url": "https://mmg.whatsapp.net.evil.example/x.enc"}
    photo_lead(app, item)
    resolved: list[str] = []
    dialled: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    def dial(address: str, port: int, timeout: float | None) -> Any:
        dialled.append(address)
        raise AssertionError("must not connect")

    from app.delivery.pinning import pinned_client

    worker = media_worker(db, settings, resolver=resolver)
    worker.client = pinned_client(dial=dial)
    worker.run(drain=True, max_seconds=10)
    [row] = rows(db)
    assert row.status == "failed" and "not in FLOWGATE_MEDIA_HOSTS" in (row.error or "")
    assert resolved == [] and dialled == []


def test_meta_cdn_names_pass_the_host_rule_then_the_ssrf_guard(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    """A default host whose DNS answer is private is refused by the SSRF guard (stub resolver)."""
    item = {**fake.cdn_upload(JPEG), "cdn_url": "https://mmg.whatsapp.net/v/t62/x.enc"}
    photo_lead(app, item)
    resolved: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["10.0.0.5"]

    worker = media_worker(db, {**settings, "FLOWGATE_MEDIA_HOSTS": ""}, resolver=resolver)
    worker.run(drain=True, max_seconds=10)
    [row] = rows(db)
    assert resolved == ["mmg.whatsapp.net"]
    assert row.status == "failed" and "SSRF guard" in (row.error or "")


def test_transient_failures_are_retried_then_stored(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cdn_upload(JPEG, statuses=[503, 429])
    photo_lead(app, item)
    worker = run_media(db, settings)
    [row] = rows(db)
    assert row.status == "stored" and row.attempts == 3
    assert worker.stats.retried == 2


def test_persistent_transient_failure_gives_up_with_the_reason(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cdn_upload(JPEG, statuses=[503, 503, 503, 503])
    photo_lead(app, item)
    run_media(db, settings)
    [row] = rows(db)
    assert row.status == "failed"
    assert row.error == "gave up after retries: HTTP 503 from 127.0.0.1"


def test_cut_connection_is_transient(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cdn_upload(JPEG + bytes(100_000), cut_after=50_000, chunk=10_000)
    photo_lead(app, item)
    worker = media_worker(db, settings)
    worker.settings.retry_delays = ()
    worker.run(drain=True, max_seconds=10)
    [row] = rows(db)
    assert row.status == "failed" and row.error is not None
    assert row.error.startswith("gave up after retries:")


def test_webhook_media_through_the_graph_api(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cloud_media(PDF, "1234567890")
    submit(app, "id_document", {"name": "Ana", "id_copy": [item]}, source="webhook")
    run_media(db, settings)
    [row] = rows(db)
    assert row.status == "stored", row.error
    assert stored_bytes(settings, row) == PDF and row.mime_type == "application/pdf"
    # the token went to the Graph API and the download; nothing was fetched without it
    assert all(auth == "Bearer test-access-token" for _, auth in fake.requests)
    assert next(p for p, _ in fake.requests) == "/v23.0/1234567890"


def test_webhook_media_with_a_wrong_sha256_fails(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cloud_media(PDF, "1234567891")
    fake.paths["/whatsapp_business/attachments/?mid=1234567891"].body = PDF[:-1] + b"X"
    submit(app, "id_document", {"name": "Ana", "id_copy": [item]}, source="webhook")
    run_media(db, settings)
    [row] = rows(db)
    assert row.status == "failed" and "sha256 mismatch" in (row.error or "")


def test_same_bytes_twice_are_stored_once(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    photo_lead(app, fake.cdn_upload(JPEG))
    photo_lead(app, fake.cdn_upload(JPEG))
    run_media(db, settings)
    first, second = rows(db)
    assert first.status == second.status == "stored"
    assert first.storage_key == second.storage_key
    assert len(list(Path(settings["FLOWGATE_MEDIA_DIR"]).glob("sha256/*/*"))) == 1
