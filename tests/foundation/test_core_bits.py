"""Small core pieces the rest relies on: clock, ids, UTC timestamps round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app import clock
from app.db import Database
from app.ids import new_id
from app.models import Contact


def test_clock_can_be_frozen_and_advanced() -> None:
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    clock.set_now(moment)
    assert clock.now() == moment
    assert clock.advance(timedelta(hours=24)) == moment + timedelta(hours=24)
    with pytest.raises(ValueError):
        clock.set_now(datetime(2026, 1, 1))  # naive
    assert clock.isoformat(moment) == "2026-01-01T12:00:00Z"


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2026, 3, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    with db.transaction() as session:
        session.add(Contact(wa_id="15550001", last_inbound_at=written))
    with db.session() as session:
        contact = session.scalars(select(Contact)).one()
    assert contact.last_inbound_at == written
    assert contact.last_inbound_at.tzinfo is not None
    assert contact.last_inbound_at.utcoffset() == timedelta(0)
    assert contact.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.transaction() as session:
        session.add(Contact(wa_id="1", last_inbound_at=datetime(2026, 1, 1)))
        session.flush()
