"""Serving files: the admin route, signed links, the submission JSON, CSV and retention."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import clock
from app.db import Database
from app.flowjson.schema_gen import generate_schema
from app.models import MediaFile
from tests.media.conftest import EXE, JPEG, PDF, run_media, submit
from tests.media.fakes import FakeMeta

AUTH = {"Authorization": "Bearer test-api-token"}


def _stored(app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta) -> str:
    submission_id = submit(app, "damage_photo", {"name": "Ana", "photos": [fake.cdn_upload(JPEG)]})
    run_media(db, settings)
    return submission_id


def _one(db: Database) -> MediaFile:
    with db.session() as session:
        return session.scalars(select(MediaFile)).one()


def test_admin_download_is_an_attachment_with_the_detected_type(
    app: Flask, client: FlaskClient, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    _stored(app, db, settings, fake)
    row = _one(db)
    assert client.get(f"/api/v1/media/{row.id}").status_code == 401
    response = client.get(f"/api/v1/media/{row.id}", headers=AUTH)
    assert response.status_code == 200 and response.data == JPEG
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "attachment; filename=photo.jpg"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get("/api/v1/media/nope", headers=AUTH).status_code == 404


def test_a_file_name_cannot_break_out_of_the_header(
    app: Flask, client: FlaskClient, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    item = fake.cdn_upload(JPEG, name='../a"b\r\nX-Evil: 1.jpg')
    submit(app, "damage_photo", {"name": "Ana", "photos": [item]})
    run_media(db, settings)
    response = client.get(f"/api/v1/media/{_one(db).id}", headers=AUTH)
    assert response.status_code == 200 and "X-Evil" not in response.headers
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;") and "/" not in disposition and "\r" not in disposition
    )


def test_pending_and_failed_files_say_why(
    app: Flask, client: FlaskClient, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    submit(app, "damage_photo", {"name": "Ana", "photos": [fake.cdn_upload(EXE)]})
    row = _one(db)
    pending = client.get(f"/api/v1/media/{row.id}", headers=AUTH)
    assert pending.status_code == 409 and pending.json["error"]["code"] == "media_pending"
    run_media(db, settings)
    failed = client.get(f"/api/v1/media/{row.id}", headers=AUTH)
    assert failed.status_code == 410 and "not allowed" in failed.json["error"]["message"]


def test_signed_links_need_a_valid_unexpired_signature(
    app: Flask, client: FlaskClient, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    submission_id = _stored(app, db, settings, fake)
    body = client.get(f"/api/v1/submissions/{submission_id}", headers=AUTH).json
    [media] = body["media"]
    url = urlsplit(media["url"])
    query = parse_qs(url.query)
    expires, signature = query["expires"][0], query["signature"][0]
    ttl = int(expires) - clock.now().timestamp()
    assert 7 * 86400 - 60 < ttl <= 7 * 86400
    good = client.get(f"{url.path}?{url.query}")
    assert good.status_code == 200 and good.data == JPEG
    assert good.headers["X-Content-Type-Options"] == "nosniff"
    bad_sig = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    later = str(int(expires) + 1)
    other = "ffff" + media["id"][4:]
    for path in (
        f"{url.path}?expires={expires}&signature={bad_sig}",
        f"{url.path}?expires={later}&signature={signature}",
        f"/media/{other}?expires={expires}&signature={signature}",
        f"{url.path}?expires={expires}",
        url.path,
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"jfif" not in response.data.lower()
    clock.set_now(clock.now() + timedelta(days=8))
    assert client.get(f"{url.path}?{url.query}").status_code == 404


def test_submission_json_and_csv_list_the_files(
    app: Flask, client: FlaskClient, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    submission_id = _stored(app, db, settings, fake)
    row = _one(db)
    listed = client.get("/api/v1/submissions", headers=AUTH).json["items"]
    [item] = [i for i in listed if i["id"] == submission_id]
    assert item["fields"]["photos"] == [row.id]
    assert item["media"][0] | {"url": None} == {
        "id": row.id,
        "field": "photos",
        "file_name": "photo.jpg",
        "mime_type": "image/jpeg",
        "size": len(JPEG),
        "sha256": row.sha256,
        "status": "stored",
        "error": None,
        "url": None,
    }
    text = client.get("/api/v1/submissions.csv?flow=damage_photo", headers=AUTH).data.decode()
    [record] = list(csv.DictReader(io.StringIO(text)))
    assert json.loads(record["photos"]) == [row.id]


def test_purge_keeps_the_lead_and_marks_the_files(
    app: Flask,
    client: FlaskClient,
    runner: object,
    db: Database,
    settings: dict[str, str],
    fake: FakeMeta,
) -> None:
    submission_id = _stored(app, db, settings, fake)
    row = _one(db)
    path = Path(settings["FLOWGATE_MEDIA_DIR"]) / str(row.storage_key)
    assert path.is_file()
    result = runner.invoke(["media", "purge", "--older-than", "30d"])  # type: ignore[attr-defined]
    assert result.exit_code == 0 and "purged 0 file(s)" in result.output
    assert path.is_file()
    clock.set_now(clock.now() + timedelta(days=31))
    result = runner.invoke(["media", "purge", "--older-than", "30d"])  # type: ignore[attr-defined]
    assert result.exit_code == 0 and f"purged 1 file(s), {len(JPEG)} bytes" in result.output
    assert not path.exists()
    assert _one(db).status == "purged" and _one(db).purged_at is not None
    lead = client.get(f"/api/v1/submissions/{submission_id}", headers=AUTH).json
    assert lead["fields"]["name"] == "Ana" and lead["media"][0]["status"] == "purged"
    assert client.get(f"/api/v1/media/{row.id}", headers=AUTH).status_code == 410
    bad = runner.invoke(["media", "purge", "--older-than", "soon"])  # type: ignore[attr-defined]
    assert bad.exit_code == 2 and "--older-than" in bad.output


def test_purge_one_submission_keeps_shared_bytes(
    app: Flask, runner: object, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    first = submit(app, "damage_photo", {"name": "A", "photos": [fake.cdn_upload(PDF)]})
    submit(app, "damage_photo", {"name": "B", "photos": [fake.cdn_upload(PDF)]})
    run_media(db, settings)
    result = runner.invoke(["media", "purge", "--submission", first])  # type: ignore[attr-defined]
    assert result.exit_code == 0 and "purged 1 file(s)" in result.output
    with db.session() as session:
        statuses = sorted(session.scalars(select(MediaFile.status)))
        key = session.scalars(select(MediaFile.storage_key)).first()
    assert statuses == ["purged", "stored"]
    assert (Path(settings["FLOWGATE_MEDIA_DIR"]) / str(key)).is_file()


def test_schema_generation_types_pickers_as_media_arrays() -> None:
    doc = json.loads((Path(__file__).parent / "flows" / "damage_photo.json").read_text())
    schema = generate_schema(doc, "damage_photo")
    photos = schema["properties"]["photos"]
    assert photos["type"] == "array" and (photos["minItems"], photos["maxItems"]) == (1, 3)
    shapes = photos["items"]["anyOf"]
    assert {"cdn_url", "encryption_metadata"} <= set(shapes[0]["required"])
    assert shapes[1]["required"] == ["id"]
    assert "photos" in schema["required"]
