"""The endpoint's session transaction (app/db.py): locking, dead connections, storage.

Real databases only. A dead PostgreSQL connection is made the way it happens in production:
the server ends the backend (`pg_terminate_backend`, as a restart or an idle timeout does).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db import Database, StaleConnection
from app.endpoint import sessions
from app.models import FlowSession
from tests.conftest import postgres_url
from tests.endpoint.conftest import ClientFactory, make_client


def _rows(db: Database) -> list[FlowSession]:
    with db.session() as session:
        return list(session.scalars(select(FlowSession)))


def test_concurrent_requests_of_one_token_lose_no_update(db: Database) -> None:
    """Each of 8 racing transactions merges its own field into one session: all 8 survive.

    SQLite serialises them with BEGIN IMMEDIATE, PostgreSQL with SELECT ... FOR UPDATE; without
    either, every writer would overwrite the others' fields with what it read.
    """
    with db.dbapi_transaction() as tx:
        sessions.save(tx, sessions.open_session(tx, "appointment", "tok", "447700900123"))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def merge(i: int) -> None:
        try:
            barrier.wait()
            with db.dbapi_transaction() as tx:
                row = sessions.find_session(tx, "appointment", "tok")
                assert row is not None
                time.sleep(0.02)  # hold what was read while the others try to write
                sessions.merge_fields(row, {f"field_{i}": i}, "APPOINTMENT")
                sessions.save(tx, row)
        except BaseException as exc:  # reported below, threads swallow them
            errors.append(exc)

    threads = [threading.Thread(target=merge, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    [row] = _rows(db)
    assert row.data == {f"field_{i}": i for i in range(8)}
    assert row.screen == "APPOINTMENT" and row.updated_at > row.created_at


def test_values_are_stored_as_core_stores_them(db: Database) -> None:
    """JSON, NULL JSON and UTC timestamps round-trip through the prebuilt statements."""
    with db.dbapi_transaction() as tx:
        row = sessions.open_session(tx, "appointment", "tok", None)
        row.data = {"name": "Ada", "nested": {"n": [1, 2.5, None, True]}, "emoji": "\U0001f600"}
        row.last_error = {"error": "x"}
        sessions.save(tx, row)
    with db.dbapi_transaction() as tx:
        again = sessions.find_session(tx, "appointment", "tok")
        assert again is not None and again.data == row.data and again.wa_id is None
        again.last_error = None
        sessions.save(tx, again)
    [stored] = _rows(db)
    assert stored.data == row.data and stored.last_error is None
    assert stored.created_at.tzinfo is not None and stored.updated_at >= stored.created_at


def test_duplicate_session_is_an_integrity_error_and_rolls_back(db: Database) -> None:
    """The race the endpoint routes again: SQLAlchemy's IntegrityError, nothing half-written."""
    with db.dbapi_transaction() as tx:
        sessions.save(tx, sessions.open_session(tx, "appointment", "tok", None))
    with pytest.raises(IntegrityError), db.dbapi_transaction() as tx:
        sessions.save(tx, sessions.SessionRow(str(uuid.uuid4()), "appointment", "other", None,
                                              None, {}, "active", new=True))  # fmt: skip
        sessions.save(tx, sessions.SessionRow(str(uuid.uuid4()), "appointment", "tok", None,
                                              None, {}, "active", new=True))  # fmt: skip
    assert [r.flow_token for r in _rows(db)] == ["tok"]


def _named_app(variant: Any, settings: dict[str, str]) -> tuple[Flask, str]:
    """An app whose PostgreSQL connections carry a name of their own (to terminate them)."""
    name = f"flowgate-test-{uuid.uuid4().hex[:12]}"
    url = make_url(settings["FLOWGATE_DATABASE_URL"]).update_query_dict({"application_name": name})
    return variant(FLOWGATE_DATABASE_URL=url.render_as_string(hide_password=False)), name


def _admin(sql: str, **params: Any) -> int:
    """Run `sql` on a connection of its own (not from the pool under test): rows returned."""
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(sql), params).all())
    finally:
        admin.dispose()


def _terminate(name: str) -> int:
    return _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name",
        name=name,
    )


def _terminate_pid(pid: int) -> None:
    assert _admin("SELECT pg_terminate_backend(:pid)", pid=pid) == 1


def test_dead_connections_between_requests_are_replaced(
    db: Database, variant: Any, settings: dict[str, str], private_key: Any
) -> None:
    """Every pooled connection killed between requests: the next requests still succeed."""
    if not db.is_postgresql:
        pytest.skip("SQLite connections are files, not server backends")
    app, name = _named_app(variant, settings)
    client = make_client(app, private_key)
    client.init()
    engine = app.extensions["flowgate"].db.engine
    held = [engine.raw_connection() for _ in range(3)]  # three idle connections in the pool
    for fairy in held:
        fairy.close()
    assert _terminate(name) >= 3
    answer = client.exchange("APPOINTMENT", {"department": "cardiology"})
    assert answer["screen"] == "APPOINTMENT" and "error_message" not in answer["data"]
    assert answer["data"]["is_location_enabled"] is True
    other = make_client(app, private_key, token=True)
    assert "error_message" not in other.init()["data"]
    [row] = [r for r in _rows(db) if r.flow_token == client.flow_token]
    assert row.data == {"department": "cardiology"}


def test_dead_connection_after_the_read_is_an_error_not_a_retry(db: Database) -> None:
    """Once a statement has run, a disconnect is an error for the caller, never run again."""
    if not db.is_postgresql:
        pytest.skip("SQLite connections are files, not server backends")
    with db.dbapi_transaction() as tx:
        sessions.save(tx, sessions.open_session(tx, "appointment", "tok", None))
    with pytest.raises(DBAPIError) as caught, db.dbapi_transaction() as tx:
        row = sessions.find_session(tx, "appointment", "tok")
        assert row is not None
        _terminate_pid(_pid(tx))
        row.data = {"lost": True}
        sessions.save(tx, row)
    assert caught.value.connection_invalidated
    assert not isinstance(caught.value, StaleConnection)
    [stored] = _rows(db)
    assert stored.data == {}
    with db.dbapi_transaction() as tx:  # the pool hands out a working connection again
        assert sessions.find_session(tx, "appointment", "tok") is not None


def test_dead_connection_on_the_first_statement_is_stale(db: Database) -> None:
    """Nothing done yet: `StaleConnection`, which the endpoint answers by running it again."""
    if not db.is_postgresql:
        pytest.skip("SQLite connections are files, not server backends")
    with db.dbapi_transaction() as tx:
        pid = _pid(tx)
    _terminate_pid(pid)
    with pytest.raises(StaleConnection), db.dbapi_transaction() as tx:
        assert _pid(tx) == pid  # the same pooled connection, taken without a ping
        sessions.find_session(tx, "appointment", "tok")
    with db.dbapi_transaction(ping=True) as tx:
        assert sessions.find_session(tx, "appointment", "tok") is None


def _pid(tx: Any) -> int:
    return int(tx._fairy.driver_connection.info.backend_pid)


def test_screen_error_rolls_back_the_session_change(wa: ClientFactory, db: Database) -> None:
    """A handler's ScreenError: the merged fields are not stored, the session is unchanged."""
    client = wa()
    client.init()
    answer = client.exchange("APPOINTMENT", {"department": "nowhere"})
    assert "error_message" in answer["data"]
    [row] = _rows(db)
    assert row.data == {} and row.screen == "APPOINTMENT"
