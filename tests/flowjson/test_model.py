"""FlowModel: the one view of a Flow JSON document that the endpoint, emulator and sending use."""

from __future__ import annotations

import json
from pathlib import Path

from app.flowjson.model import FlowModel
from app.flowjson.spec import INPUTS
from tests.flowjson.cases import basic

ROOT = Path(__file__).resolve().parents[2]


def test_model_of_the_appointment_flow() -> None:
    model = FlowModel(json.loads((ROOT / "flows" / "appointment.json").read_text()))
    assert model.endpoint_powered and model.data_api_version == "3.0"
    assert model.entry_screen == "APPOINTMENT"
    assert [s.id for s in model.screens.values() if s.terminal] == ["SUMMARY"]
    assert model.next_screens("APPOINTMENT") == ["DETAILS"]
    assert "SUMMARY" in model.next_screens("DETAILS")
    assert "SUMMARY" not in model.next_screens("APPOINTMENT")
    details = model.screen("DETAILS")
    assert details is not None
    inputs = {c["name"]: c["type"] for c in details.components() if c.get("type") in INPUTS}
    assert inputs == {
        "name": "TextInput",
        "email": "TextInput",
        "phone": "TextInput",
        "more_details": "TextArea",
    }
    assert set(details.data_model) == {"department", "location", "date", "time"}
    assert details.examples["date"] == "2026-12-01"
    assert all("__example__" not in schema for schema in details.data_model.values())
    assert details.accepts("date", "2026-12-02") and not details.accepts("date", 7)
    assert details.validator is not None and not details.validator.is_valid({})


def test_model_of_an_endpointless_flow() -> None:
    model = FlowModel(basic())
    assert not model.endpoint_powered and model.routing == {}
    assert model.entry_screen == "FIRST"
    assert model.screen("NOPE") is None and model.screen(None) is None
    first = model.screen("FIRST")
    assert first is not None and first.examples == {"greeting": "Hi"}
    [tap] = first.actions
    assert (tap.event, tap.name, tap.next) == (
        "on-click-action",
        "navigate",
        {"type": "screen", "name": "LAST"},
    )
    assert tap.payload == {"full_name": "${form.full_name}"}
