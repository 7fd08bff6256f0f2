"""The core functions the dashboard reads through, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.delivery.overview import TEST_EVENT, send_test_event, status_counts
from app.delivery.ssrf import parse_networks
from app.delivery.subscriptions import Guard, create_endpoint
from app.export.query import SubmissionFilter, page
from app.flowjson.labels import field_labels
from app.leads.browse import closed_windows, lead, open_windows
from app.models import Contact, Delivery, Event, Submission
from app.models.outbox import enqueue_event
from tests.conftest import ROOT

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
GUARD = Guard(allow=parse_networks(["127.0.0.1/32"]))


def _lead(i: int, fields: dict, name: str | None = None, status: str = "valid") -> Submission:
    return Submission(
        flow="lead_capture",
        wa_id=f"55110000000{i}",
        contact_name=name,
        source="webhook",
        status=status,
        fields=fields,
        dedup_key=f"message:wamid.core{i}",
        submitted_at=AT - timedelta(minutes=i),
    )


def _names(db: Database, **filters: object) -> list[str]:
    with db.session() as session:
        rows, _ = page(session, SubmissionFilter(**filters), start=None, limit=50)  # type: ignore[arg-type]
        return [r.contact_name or "" for r in rows]


def test_text_search_matches_values_names_and_wa_ids_not_keys(db: Database) -> None:
    with db.transaction() as session:
        session.add_all(
            [
                _lead(1, {"name": "José Álvares", "note": "100% sure"}, "Jo"),
                _lead(2, {"name": "Maria", "city": "Lisboa", "n": 42}, "Mari"),
                _lead(3, {"name": "Under_score", "tags": ["vip", "b2b"]}, "Uma"),
                _lead(4, {"other": "x"}, "Zed Searchable", status="unrouted"),
            ]
        )
    assert _names(db, text="José") == ["Jo"]  # non-ASCII values as stored, not \u escapes
    assert _names(db, text="lisboa") == ["Mari"]  # case-insensitive
    assert _names(db, text="name") == []  # keys do not match
    assert _names(db, text="42") == ["Mari"]  # numbers as text
    assert _names(db, text="%") == ["Jo"]  # LIKE wildcards taken literally
    assert _names(db, text="_") == ["Uma"]
    assert _names(db, text="vip") == ["Uma"]  # inside a list
    assert _names(db, text="searchable") == ["Zed Searchable"]  # contact name
    assert _names(db, text="551100000002") == ["Mari"]  # wa_id
    assert _names(db, status="unrouted") == ["Zed Searchable"]
    assert _names(db, text="maria", status="invalid") == []


def test_option_titles_from_static_and_example_data_sources() -> None:
    labels = field_labels(json.loads((ROOT / "flows/lead_capture.json").read_text()))
    assert labels["service"].label == "Service wanted"
    assert labels["service"].titles("installation") == ["Installation"]
    assert labels["service"].titles("unknown") is None
    assert labels["name"].titles("Ana") is None
    appointment = field_labels(json.loads(Path(ROOT / "flows/appointment.json").read_text()))
    titled = {k: v for k, v in appointment.items() if v.options}
    assert titled, "the appointment flow binds its options to screen data with examples"
    department = next(v for v in titled.values() if "cardiology" in v.options)
    assert department.titles(["cardiology", "dermatology"]) == ["Cardiology", "Dermatology"]
    assert field_labels(None) == {} and field_labels({"screens": "nope"}) == {}


def test_windows_open_soonest_first_closed_paged(db: Database) -> None:
    with db.transaction() as session:
        for i, hours in enumerate([1, 23, 5, 30, 48]):
            session.add(Contact(wa_id=f"w{i}", last_inbound_at=AT - timedelta(hours=hours)))
        session.add(Contact(wa_id="never"))
        session.add(
            Contact(
                wa_id="refused",
                last_inbound_at=AT - timedelta(hours=2),
                re_engagement_error_at=AT - timedelta(hours=1),
            )
        )
    with db.session() as session:
        assert [r.contact.wa_id for r in open_windows(session, AT)] == ["w1", "w2", "w0"]
        first, after = closed_windows(session, AT, after=None, limit=2)
        assert [r.contact.wa_id for r in first] == ["refused", "w3"]
        assert first[0].window.closed_reason == "re_engagement_error"
        rest, end = closed_windows(session, AT, after=after, limit=2)
        assert [r.contact.wa_id for r in rest] == ["w4", "never"]
        assert end is None


def test_lead_view_with_deliveries_and_a_test_event_for_one_endpoint(db: Database) -> None:
    with db.transaction() as session:
        one = create_endpoint(session, "http://127.0.0.1:9/a", None, guard=GUARD)
        two = create_endpoint(session, "http://127.0.0.1:9/b", ["*"], guard=GUARD)
        submission = _lead(1, {"name": "Ana"}, "Ana")
        session.add(submission)
        session.flush()
        enqueue_event(session, "flow.submitted", {"x": 1}, submission_id=submission.id)
        lead_id, one_id, two_id = submission.id, one.id, two.id
    with db.transaction() as session:
        send_test_event(session, one_id)
    with db.session() as session:
        view = lead(session, lead_id, AT)
        assert view is not None
        assert sorted(d.endpoint_url for d in view.deliveries) == [
            "http://127.0.0.1:9/a",
            "http://127.0.0.1:9/b",
        ]
        tests = session.scalars(select(Delivery).where(Delivery.event_type == TEST_EVENT)).all()
        assert [d.endpoint_id for d in tests] == [one_id]  # not to the `*` subscriber
        event = session.get(Event, tests[0].event_id)
        assert json.loads(event.body)["type"] == TEST_EVENT
        counts = status_counts(session)
        assert counts[one_id]["pending"] == 2 and counts[two_id]["pending"] == 1
        assert lead(session, "missing", AT) is None
