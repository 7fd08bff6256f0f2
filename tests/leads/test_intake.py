"""`record_submission`, the one door of both paths, called as the endpoint calls it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.db import Database
from app.flowjson.registry import FlowRegistry
from app.leads.contacts import record_inbound
from app.leads.intake import Intake, record_submission
from app.models import Event, Submission
from tests.conftest import ROOT
from tests.leads.meta import LEAD, add_endpoint, counts, event_types, one

WA = "5511912345678"
T = datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> FlowRegistry:
    return FlowRegistry.load(ROOT / "flows", ROOT / "schemas")


def test_endpoint_then_webhook_with_the_same_token_is_one_lead(
    db: Database, registry: FlowRegistry
) -> None:
    add_endpoint(db)
    clock.set_now(T)
    with db.transaction() as session:
        first, created = record_submission(
            session, registry, Intake("lead_capture", dict(LEAD), "endpoint", WA, flow_token="t1")
        )
        assert created
        assert first.dedup_key == "token:lead_capture:t1"
    with db.transaction() as session:
        again, created = record_submission(
            session,
            registry,
            Intake("lead_capture", dict(LEAD), "webhook", WA, flow_token="t1", message_id="w1"),
        )
        assert (created, again.id) == (False, first.id)
    # The same endpoint run completing twice is one lead too; another flow's run is not.
    with db.transaction() as session:
        _, created = record_submission(
            session, registry, Intake("lead_capture", dict(LEAD), "endpoint", WA, flow_token="t1")
        )
        assert not created
        _, created = record_submission(
            session, registry, Intake("appointment", {}, "endpoint", WA, flow_token="t1")
        )
        assert created
    assert counts(db)["submissions"] == 2
    # The appointment run is invalid: its event is submission.invalid, not flow.submitted.
    with db.session() as session:
        assert sorted(session.scalars(select(Event.type))) == [
            "flow.submitted",
            "submission.invalid",
        ]


def test_event_data_is_exactly_the_design_shape(db: Database, registry: FlowRegistry) -> None:
    add_endpoint(db)
    clock.set_now(T)
    with db.transaction() as session:
        sub, _ = record_submission(
            session,
            registry,
            Intake("lead_capture", {**LEAD, "flow_token": "t"}, "endpoint", WA, flow_token="t"),
        )
    body = json.loads(one(db, Event).body)
    assert body == {
        "type": "flow.submitted",
        "timestamp": "2026-09-21T14:13:20Z",
        "data": {
            "submission_id": sub.id,
            "flow": "lead_capture",
            "flow_token": "t",
            "wa_id": WA,
            "contact_name": None,
            "submitted_at": "2026-09-21T14:13:20Z",
            "source": "endpoint",
            "fields": LEAD,
            "window": {"open": False, "expires_at": None},  # never heard from yet
        },
    }


def test_window_and_name_come_from_the_contact(db: Database, registry: FlowRegistry) -> None:
    add_endpoint(db)
    with db.transaction() as session:
        record_inbound(session, WA, at=T - timedelta(hours=23), name="Ana")
    clock.set_now(T)
    with db.transaction() as session:
        sub, _ = record_submission(
            session, registry, Intake("lead_capture", dict(LEAD), "endpoint", WA, flow_token="t")
        )
        assert sub.contact_name == "Ana"
    data = json.loads(one(db, Event).body)["data"]
    assert data["window"] == {"open": True, "expires_at": "2026-09-21T15:13:20Z"}


def test_nul_is_removed_everywhere_before_validation(db: Database, registry: FlowRegistry) -> None:
    fields = {**LEAD, "name": "\x00Ana Sou\x00za", "ph\x00one": LEAD["phone"]}
    del fields["phone"]
    with db.transaction() as session:
        sub, _ = record_submission(
            session,
            registry,
            Intake("lead_capture", fields, "webhook", WA, contact_name="A\x00", message_id="m\x00"),
        )
    stored = one(db, Submission)
    assert stored.fields == LEAD
    assert (stored.status, stored.contact_name, stored.message_id) == ("valid", "A", "m")
    assert sub.id == stored.id


def test_unknown_flow_and_extra_errors_make_invalid_leads(
    db: Database, registry: FlowRegistry
) -> None:
    add_endpoint(db)
    mismatch = {"field": None, "code": "token_wa_id_mismatch", "message": "other user"}
    with db.transaction() as session:
        ghost, _ = record_submission(
            session, registry, Intake("ghost", {"a": 1}, "webhook", WA, message_id="m1")
        )
        other, _ = record_submission(
            session,
            registry,
            Intake("lead_capture", dict(LEAD), "webhook", WA, message_id="m2",
                   extra_errors=(mismatch,)),
        )  # fmt: skip
    assert (ghost.status, ghost.errors[0]["code"]) == ("invalid", "unknown_flow")
    assert (other.status, other.errors) == ("invalid", [mismatch])
    # Invalid leads reach the business as submission.invalid, never as flow.submitted.
    assert event_types(db) == ["submission.invalid"] * 2


def test_long_foreign_tokens_still_deduplicate(db: Database, registry: FlowRegistry) -> None:
    token = "x" * 2000
    with db.transaction() as session:
        first, _ = record_submission(
            session, registry, Intake("lead_capture", dict(LEAD), "endpoint", WA, flow_token=token)
        )
        again, created = record_submission(
            session, registry, Intake("lead_capture", dict(LEAD), "endpoint", WA, flow_token=token)
        )
    assert (created, again.id, first.flow_token) == (False, first.id, None)
    assert len(first.dedup_key) < 700


def test_unknown_source_is_a_programming_error(db: Database, registry: FlowRegistry) -> None:
    with db.transaction() as session, pytest.raises(ValueError):
        record_submission(session, registry, Intake("lead_capture", {}, "fax", WA))
