"""The raw inbox: a processing failure keeps the notification for `flowgate inbox reprocess`;
flow alerts are stored once and logged."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import clock
from app.db import Database
from app.models import Base, FlowAlert, InboundNotification, MessageStatus
from tests.leads.meta import T0, counts, flow_alert, one, post, status, text_message

WA = "5511912345678"


def test_processing_failure_is_200_kept_and_reprocessed(
    client: FlaskClient, db: Database, runner: object
) -> None:
    with db.engine.begin() as conn:  # a real database failure, not a mock
        conn.execute(text("DROP TABLE message_statuses"))
    response = post(client, status("wamid.out", WA, "delivered", T0))
    assert response.status_code == 200  # stored durably: Meta must not retry
    assert response.get_json()["status"] == "failed"
    row = one(db, InboundNotification)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error.startswith("database error")

    Base.metadata.tables["message_statuses"].create(db.engine)
    result = runner.invoke(["inbox", "reprocess"])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    assert f"{row.id} processed" in result.output
    row = one(db, InboundNotification)
    assert (row.status, row.attempts, row.error) == ("processed", 2, None)
    assert one(db, MessageStatus).status == "delivered"
    # Nothing is left to do: a second run processes nothing.
    again = runner.invoke(["inbox", "reprocess"])  # type: ignore[attr-defined]
    assert again.exit_code == 0
    assert "0 of 0" in again.output


def test_meta_retry_of_a_failed_notification_processes_it(
    client: FlaskClient, db: Database
) -> None:
    payload = text_message(WA, "wamid.in", T0)
    with db.transaction() as session:
        body = json.dumps(payload).encode()
        session.add(
            InboundNotification(
                body=body, body_sha256=hashlib.sha256(body).hexdigest(), status="failed"
            )
        )
    response = post(client, payload)
    assert response.get_json() == {
        "status": "processed",
        "duplicate": True,
        "notification_id": one(db, InboundNotification).id,
    }
    assert counts(db)["notifications"] == 1
    assert counts(db)["contacts"] == 1


def test_reprocess_takes_stale_pending_rows_but_not_fresh_ones(
    db: Database, runner: object
) -> None:
    def add(message_id: str, age: timedelta) -> str:
        body = json.dumps(text_message(WA, message_id, T0)).encode()
        with db.transaction() as session:
            row = InboundNotification(
                body=body,
                body_sha256=hashlib.sha256(body).hexdigest(),
                status="pending",
                received_at=clock.now() - age,
            )
            session.add(row)
            session.flush()
            return row.id

    stale, fresh = add("wamid.a", timedelta(minutes=6)), add("wamid.b", timedelta(seconds=5))
    result = runner.invoke(["inbox", "reprocess"])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    assert stale in result.output
    assert fresh not in result.output
    with db.session() as session:
        assert session.get(InboundNotification, fresh).status == "pending"
        assert session.get(InboundNotification, stale).status == "processed"


def test_reprocess_by_id_and_unknown_ids(db: Database, runner: object) -> None:
    result = runner.invoke(["inbox", "reprocess", "--id", "nope"])  # type: ignore[attr-defined]
    assert result.exit_code == 1
    assert "nope not found" in result.output


def test_flow_alerts_are_stored_once_and_logged(
    client: FlaskClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flowgate.meta"):
        assert post(client, flow_alert()).status_code == 200
    alert = one(db, FlowAlert)
    assert (alert.event, alert.meta_flow_id) == ("ENDPOINT_ERROR_RATE", "4242")
    assert alert.payload["error_rate"] == 12.5
    assert any("ENDPOINT_ERROR_RATE" in r.getMessage() for r in caplog.records)
    rebatched = flow_alert()
    rebatched["entry"].append({"id": "2", "changes": []})
    assert post(client, rebatched).status_code == 200
    assert counts(db)["alerts"] == 1
    assert post(client, flow_alert(event="ENDPOINT_LATENCY")).status_code == 200
    assert counts(db)["alerts"] == 2


def test_concurrent_deliveries_of_one_lead_store_it_once(client: FlaskClient, db: Database) -> None:
    """Meta may deliver the same message twice at once, in other batches; one lead results."""
    import threading

    from tests.leads.meta import LEAD, nfm_reply, token_for

    payload = nfm_reply(LEAD, token=token_for(WA))
    variants = []
    for i in range(4):
        copy = json.loads(json.dumps(payload))
        copy["entry"][0]["id"] = f"batch-{i % 2}"  # two distinct bodies, each sent twice
        variants.append(copy)
    barrier = threading.Barrier(len(variants))
    codes: list[int] = []

    def send(body: dict) -> None:
        barrier.wait()
        codes.append(post(client, body).status_code)

    threads = [threading.Thread(target=send, args=(v,)) for v in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 4
    assert counts(db)["submissions"] == 1
    assert counts(db)["events"] == 1
    with db.session() as session:
        statuses = session.scalars(text("SELECT status FROM inbound_notifications")).all()
    assert set(statuses) == {"processed"}
