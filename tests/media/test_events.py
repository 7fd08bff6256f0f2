"""flow.submitted of a lead with files: held, then released with the files' state."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from app.db import Database
from app.models import Delivery, Event
from tests.media.conftest import JPEG, media_worker, run_media
from tests.media.fakes import FakeMeta
from tests.media.test_pipeline import photo_lead, rows


def test_event_waits_for_files_then_carries_them(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    from tests.delivery.conftest import add_endpoint

    add_endpoint(db, "http://127.0.0.1:9/hook")
    photo_lead(app, fake.cdn_upload(JPEG))
    with db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        event = session.get(Event, delivery.event_id)
        assert event is not None
        held_until, created = delivery.next_attempt_at, event.created_at
    assert held_until is not None and (held_until - created).total_seconds() >= 3000

    run_media(db, settings)

    with db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        event = session.get(Event, delivery.event_id)
        assert event is not None and delivery.next_attempt_at is not None
        assert delivery.next_attempt_at <= created.__class__.now(created.tzinfo)
        [media] = json.loads(event.body)["data"]["media"]
    assert media["status"] == "stored" and media["mime_type"] == "image/jpeg"
    assert media["url"].startswith("http://flowgate.test/media/")


def test_event_already_attempted_is_never_rewritten(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    from sqlalchemy import update

    from tests.delivery.conftest import add_endpoint

    add_endpoint(db, "http://127.0.0.1:9/hook")
    photo_lead(app, fake.cdn_upload(JPEG))
    with db.transaction() as session:
        session.execute(update(Delivery).values(attempts=1))
        before = session.scalars(select(Event)).one().body
    run_media(db, settings)
    with db.session() as session:
        assert session.scalars(select(Event)).one().body == before
    assert rows(db)[0].status == "stored"


def test_bounded_wait_releases_the_event_with_pending_files(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    from tests.delivery.conftest import add_endpoint

    add_endpoint(db, "http://127.0.0.1:9/hook")
    item = fake.cdn_upload(JPEG, statuses=[503] * 10)
    photo_lead(app, item)
    worker = media_worker(db, {**settings, "FLOWGATE_MEDIA_WAIT_SECONDS": "0"})
    worker.settings.retry_delays = (60,)
    worker.run(drain=True, max_seconds=10)
    with db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        event = session.get(Event, delivery.event_id)
        assert event is not None
        [media] = json.loads(event.body)["data"]["media"]
        due = delivery.next_attempt_at
    assert media["status"] == "pending" and media["url"] is None
    assert due is not None and (due - event.created_at).total_seconds() < 60


def test_files_settled_by_parallel_threads_release_the_event_once_all_are_done(
    app: Flask, db: Database, settings: dict[str, str], fake: FakeMeta
) -> None:
    from tests.delivery.conftest import add_endpoint

    add_endpoint(db, "http://127.0.0.1:9/hook")
    items = [fake.cdn_upload(JPEG + bytes([i]) * 50_000, chunk=8192) for i in range(3)]
    photo_lead(app, *items)
    # no sweep: only the recording of the last file may release the event
    worker = media_worker(db, {**settings, "FLOWGATE_MEDIA_WAIT_SECONDS": "3600"})
    worker.settings.concurrency, worker.settings.batch = 3, 1
    worker.run(drain=True, max_seconds=20)
    with db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        event = session.get(Event, delivery.event_id)
        assert event is not None and delivery.next_attempt_at is not None
        media = json.loads(event.body)["data"]["media"]
        due_in = (delivery.next_attempt_at - event.created_at).total_seconds()
    assert [m["status"] for m in media] == ["stored"] * 3
    assert due_in < 600
