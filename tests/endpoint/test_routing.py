"""Routing and sessions through the real endpoint, driven by the emulated WhatsApp client."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select, text

from app.db import Database
from app.endpoint.emulator import ClientError, nfm_reply_notification
from app.models import FlowSession, Submission
from tests.conftest import ROOT
from tests.endpoint.conftest import WA_ID, ClientFactory, make_client

DETAILS = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "more_details": "First visit; wheelchair access please",
}


def _appointment_module() -> Any:
    spec = importlib.util.spec_from_file_location("appointment_flow", ROOT / "flows/appointment.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def booking_answers() -> dict[str, dict[str, Any]]:
    day = _appointment_module().offered_dates()[1]["id"]
    return {
        "APPOINTMENT": {
            "department": "dermatology",
            "location": "riverside",
            "date": day,
            "time": "10:30",
        },
        "DETAILS": DETAILS,
    }


def submissions(db: Database) -> list[Submission]:
    with db.session() as session:
        return list(session.scalars(select(Submission)))


def test_appointment_init_to_success_stores_what_was_entered(
    wa: ClientFactory, db: Database
) -> None:
    client = wa()
    answers = booking_answers()
    seen: list[str] = []
    result = client.walk(answers, on_screen=lambda screen, data: seen.append(screen))
    assert seen == ["APPOINTMENT", "DETAILS", "SUMMARY"]
    [stored] = submissions(db)
    assert result.completion == {"flow_token": client.flow_token, "submission_id": stored.id}
    assert stored.fields == {**answers["APPOINTMENT"], **DETAILS}
    assert (stored.status, stored.errors, stored.source) == ("valid", [], "endpoint")
    assert (stored.flow, stored.wa_id, stored.flow_token) == (
        "appointment",
        WA_ID,
        client.flow_token,
    )
    with db.session() as session:
        row = session.scalars(select(FlowSession)).one()
    assert (row.status, row.submission_id, row.data) == ("completed", stored.id, stored.fields)
    # A retried final submit gets the same SUCCESS; a new INIT on the finished run is refused.
    again = client.exchange("SUMMARY", stored.fields)
    assert again["data"]["extension_message_response"]["params"]["submission_id"] == stored.id
    with pytest.raises(ClientError) as caught:
        client.init()
    assert caught.value.status == 427 and "already been submitted" in caught.value.error_msg
    assert len(submissions(db)) == 1


def test_handlers_compute_dynamic_slots(wa: ClientFactory) -> None:
    module = _appointment_module()
    client = wa()
    first = client.init()["data"]
    assert first["is_location_enabled"] is False and first["time"] == []
    assert first["date"] == module.offered_dates()
    day = module.offered_dates()[0]["id"]
    picked = client.exchange("APPOINTMENT", {"department": "cardiology"})["data"]
    assert picked["is_location_enabled"] is True and picked["is_date_enabled"] is False
    payload = {"department": "dermatology", "location": "riverside", "date": day}
    times = client.exchange("APPOINTMENT", payload)["data"]
    assert times["is_time_enabled"] is True
    assert [t["id"] for t in times["time"]] == [
        t["id"] for t in module.offered_times("dermatology", day)
    ]
    assert "12:00" not in [t["id"] for t in times["time"]]
    # A handler's ScreenError shows on the same screen.
    answer = client.exchange("APPOINTMENT", {**payload, "date": "2001-01-01"})
    assert answer["screen"] == "APPOINTMENT"
    assert "not available" in answer["data"]["error_message"]


def test_invalid_fields_answer_the_same_screen_and_store_nothing(
    wa: ClientFactory, db: Database
) -> None:
    client = wa()
    client.init()
    fields = {**booking_answers()["APPOINTMENT"], **DETAILS, "email": "not-an-email"}
    answer = client.exchange("SUMMARY", fields)
    assert answer["screen"] == "SUMMARY"
    assert "email" in answer["data"]["error_message"]
    missing = {k: v for k, v in fields.items() if k != "phone"}
    missing["email"] = "ada@example.com"
    assert "phone" in client.exchange("SUMMARY", missing)["data"]["error_message"]
    assert submissions(db) == []
    with db.session() as session:
        row = session.scalars(select(FlowSession)).one()
    assert row.status == "active" and "email" not in row.data


def test_back_re_renders_with_the_session_data(wa: ClientFactory) -> None:
    client = wa()
    client.init()
    chosen = booking_answers()["APPOINTMENT"]
    client.exchange("APPOINTMENT", {k: chosen[k] for k in ("department", "location", "date")})
    back = client.back("APPOINTMENT")
    assert back["screen"] == "APPOINTMENT"
    # The BACK handler rebuilds the dropdowns from the session: all enabled, times of that day.
    assert back["data"]["is_time_enabled"] is True
    module = _appointment_module()
    assert back["data"]["time"] == module.offered_times(chosen["department"], chosen["date"])
    details = client.send(client.request_payload("BACK", "DETAILS", {}))
    assert details.status == 200
    assert details.payload["data"]["department"] == chosen["department"]


def test_store_failure_is_an_on_screen_error_not_success(wa: ClientFactory, db: Database) -> None:
    client = wa()
    client.init()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE submissions"))
    fields = {**booking_answers()["APPOINTMENT"], **DETAILS}
    answer = client.exchange("SUMMARY", fields)
    assert answer["screen"] == "SUMMARY"
    assert answer["data"]["error_message"] == "Something went wrong. Please try again."
    with db.session() as session:
        row = session.scalars(select(FlowSession)).one()
    assert row.status == "active" and row.submission_id is None


def test_lead_capture_walks_client_side_to_its_complete_payload(wa: ClientFactory) -> None:
    client = wa("lead_capture", token="not-used")
    answers = {
        "LEAD_FORM": {
            "name": "Grace Hopper",
            "phone": "+1 555 010 9999",
            "email": "grace@example.com",
            "service": "installation",
            "preferred_date": "2026-12-14",
        }
    }
    result = client.walk(answers)
    assert result.completion == answers["LEAD_FORM"]
    assert [s for s, _ in result.screens] == ["LEAD_FORM"]
    with pytest.raises(ClientError, match="not an option"):
        client.walk({"LEAD_FORM": {**answers["LEAD_FORM"], "service": "teleportation"}})
    note = nfm_reply_notification(
        {"flow_token": "tok", **result.completion}, wa_id=WA_ID, message_id="wamid.X"
    )
    message = note["entry"][0]["changes"][0]["value"]["messages"][0]
    assert (
        json.loads(message["interactive"]["nfm_reply"]["response_json"])["name"] == "Grace Hopper"
    )


HANDLERS = """
from app.flows_api import FlowHandlers
from app.endpoint.protocol import Answer, TokenRejected

handlers = FlowHandlers({settings})

@handlers.on_init
def start(ctx):
    {init}
"""


def _variant_with(
    variant: Callable[..., Flask], flows_dir: Path, settings: str = "", init: str = "return None"
) -> Flask:
    code = HANDLERS.format(settings=settings, init=init)
    (flows_dir / "appointment.py").write_text(code)
    return variant(
        FLOWGATE_FLOWS_DIR=str(flows_dir), FLOWGATE_SCHEMAS_DIR=str(flows_dir.parent / "schemas")
    )


def test_json_only_flow_uses_the_examples(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey, db: Database
) -> None:
    app = variant(
        FLOWGATE_FLOWS_DIR=str(flows_dir), FLOWGATE_SCHEMAS_DIR=str(flows_dir.parent / "schemas")
    )
    client = make_client(app, private_key)
    first = client.init()
    assert first["data"]["date"][0] == {"id": "2026-12-01", "title": "Tue 1 Dec 2026"}
    answers = {
        "APPOINTMENT": {
            "department": "cardiology",
            "location": "city_centre",
            "date": "2026-12-02",
            "time": "14:00",
        },
        "DETAILS": DETAILS,
    }
    result = client.walk(answers)
    [stored] = submissions(db)
    assert result.completion["submission_id"] == stored.id
    assert stored.fields == {**answers["APPOINTMENT"], **DETAILS}


def test_handler_exception_is_an_encrypted_on_screen_error(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey, caplog: Any
) -> None:
    app = _variant_with(variant, flows_dir, init="raise RuntimeError('database is down')")
    client = make_client(app, private_key)
    with caplog.at_level(logging.ERROR, "flowgate.endpoint"):
        reply = client.send(client.request_payload("INIT", None, {}))
    assert reply.status == 200
    assert reply.payload["screen"] == "APPOINTMENT"
    assert reply.payload["data"]["error_message"] == "Something went wrong. Please try again."
    assert "RuntimeError: database is down" in caplog.text
    assert "flowgate_flows.appointment.start" in caplog.text


def test_handler_token_rejection_is_427(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey
) -> None:
    app = _variant_with(variant, flows_dir, init="raise TokenRejected('Offer ended.')")
    with pytest.raises(ClientError) as caught:
        make_client(app, private_key).init()
    assert (caught.value.status, caught.value.error_msg) == (427, "Offer ended.")


def test_answer_violations_fail_loudly_in_tests_and_are_replaced_in_production(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey, caplog: Any
) -> None:
    wrong = "return Answer('SUMMARY', {})"  # not an entry screen, and its data is missing
    app = _variant_with(variant, flows_dir, init=wrong)
    reply = make_client(app, private_key).send(
        {"version": "3.0", "action": "INIT", "screen": "", "data": {}, "flow_token": _token()}
    )
    assert reply.status == 500 and "invalid-screen-transition" in reply.body
    assert "flowgate_flows.appointment.start" in reply.body
    prod = variant(
        FLOWGATE_FLOWS_DIR=str(flows_dir),
        FLOWGATE_SCHEMAS_DIR=str(flows_dir.parent / "schemas"),
        TESTING="0",
    )
    with caplog.at_level(logging.ERROR, "flowgate.endpoint"):
        answer = make_client(prod, private_key).init()
    assert answer["screen"] == "APPOINTMENT" and answer["data"]["error_message"]
    assert "violates the Flow JSON" in caplog.text and "appointment.start" in caplog.text


def _token() -> str:
    from tests.endpoint.conftest import token_for

    return token_for("appointment")


def test_foreign_tokens_opt_in_and_never_merge_users(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey, db: Database
) -> None:
    app = _variant_with(variant, flows_dir, settings="accept_foreign_tokens=True")
    fields = {**booking_answers()["APPOINTMENT"], **DETAILS}
    fields["date"] = "2026-12-02"
    ids = set()
    for name in ("First User", "Second User"):
        client = make_client(app, private_key, token="unused")
        assert client.init()["screen"] == "APPOINTMENT"
        done = client.exchange("SUMMARY", {**fields, "name": name})
        params = done["data"]["extension_message_response"]["params"]
        assert params["flow_token"] == "unused"
        ids.add(params["submission_id"])
    stored = submissions(db)
    assert len(ids) == 2 and {s.fields["name"] for s in stored} == {"First User", "Second User"}
    assert all(s.wa_id is None for s in stored)
    # A Flowgate token that is expired/forged is still refused even when foreign ones are OK.
    forged = make_client(app, private_key, token=_token()[:-3] + "abc")
    with pytest.raises(ClientError) as caught:
        forged.init()
    assert caught.value.status == 427


def test_concurrent_final_submits_store_one_submission(wa: ClientFactory, db: Database) -> None:
    """Retries racing each other (a slow network) still make one lead and one SUCCESS."""
    import threading

    client = wa()
    client.init()
    fields = {**booking_answers()["APPOINTMENT"], **DETAILS}
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def submit() -> None:
        barrier.wait()
        answers.append(client.exchange("SUMMARY", fields))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    [stored] = submissions(db)
    ids = {a["data"]["extension_message_response"]["params"]["submission_id"] for a in answers}
    assert len(answers) == 4 and ids == {stored.id}


def test_unstorable_text_is_cleaned_before_validation_and_storage(
    wa: ClientFactory, db: Database
) -> None:
    """NUL (PostgreSQL cannot store it), a lone surrogate and NaN: the lead is still kept."""
    client = wa()
    client.init()
    fields = {**booking_answers()["APPOINTMENT"], **DETAILS}
    dirty = {**fields, "name": "Ada\x00 Love\ud800lace", "more_details": "a\x00b"}
    done = client.exchange("SUMMARY", dirty)
    params = done["data"]["extension_message_response"]["params"]
    [stored] = submissions(db)
    assert params["submission_id"] == stored.id
    assert stored.fields["name"] == "Ada Love\ufffdlace"
    assert stored.fields["more_details"] == "ab"
    other = wa()
    other.init()
    nan = other.exchange("APPOINTMENT", {"department": "cardiology", "location": float("nan")})
    assert nan["screen"] == "APPOINTMENT" and nan["data"]["is_date_enabled"] is True
    with db.session() as session:
        row = session.scalars(select(FlowSession).where(FlowSession.status == "active")).one()
    assert row.data == {"department": "cardiology", "location": "nan"}


QUICK_FLOW = {
    "version": "7.3",
    "data_api_version": "3.0",
    "routing_model": {},
    "screens": [
        {
            "id": "QUICK",
            "title": "Quick question",
            "terminal": True,
            "success": True,
            "data": {},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {
                        "type": "Form",
                        "name": "form",
                        "children": [
                            {
                                "type": "TextInput",
                                "name": "name",
                                "label": "Name",
                                "required": True,
                            },
                            {
                                "type": "Footer",
                                "label": "Send",
                                "on-click-action": {
                                    "name": "data_exchange",
                                    "payload": {"name": "${form.name}"},
                                },
                            },
                        ],
                    }
                ],
            },
        }
    ],
}


def test_single_screen_endpoint_flow_with_empty_routing_model_is_served(
    variant: Callable[..., Flask], flows_dir: Path, private_key: rsa.RSAPrivateKey, db: Database
) -> None:
    """The validator accepts `"routing_model": {}` for one screen, so the endpoint serves it."""
    (flows_dir / "quick.json").write_text(json.dumps(QUICK_FLOW))
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}},
        "required": ["name"],
    }
    (flows_dir.parent / "schemas" / "quick.json").write_text(json.dumps(schema))
    app = variant(
        FLOWGATE_FLOWS_DIR=str(flows_dir), FLOWGATE_SCHEMAS_DIR=str(flows_dir.parent / "schemas")
    )
    definition = app.extensions["flowgate"].registry.get("quick")
    assert definition is not None and definition.valid, definition and definition.findings
    client = make_client(app, private_key, "quick")
    assert client.init()["screen"] == "QUICK"
    result = client.walk({"QUICK": {"name": "Ada"}})
    [stored] = submissions(db)
    assert result.completion["submission_id"] == stored.id
    assert stored.flow == "quick" and stored.fields == {"name": "Ada"}
