"""SubmissionValidator: one compiled schema per flow, judging a screen (`only`) or a lead."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from app.flowjson.registry import FlowRegistry
from app.flowjson.schema_gen import blank_allowed
from app.flowjson.submission import SubmissionValidator
from tests.conftest import ROOT

REGISTRY = FlowRegistry.load(ROOT / "flows", ROOT / "schemas")
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "email": {"type": "string", "format": "email"},
        "age": {"type": "integer"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def codes(errors: list[dict]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in errors]


def test_whole_lead_and_one_screen() -> None:
    judge = SubmissionValidator(SCHEMA, "file")
    assert codes(judge.check({"email": "x"})) == [
        ("name", "required"),
        ("age", "required"),
        ("email", "format"),
    ]
    # A screen that sends only the email is judged on the email alone.
    assert codes(judge.check({"email": "x"}, only={"email"})) == [("email", "format")]
    # A field the screen's action declares but does not send is missing.
    assert codes(judge.check({"email": "a@b.c"}, only={"email", "name"})) == [("name", "required")]
    assert codes(judge.check({"zzz": 1}, only={"zzz"})) == [("zzz", "unexpected")]


def test_blank_optional_fields_count_as_absent_but_required_ones_are_judged() -> None:
    judge = SubmissionValidator(SCHEMA, "file")
    assert judge.check({"name": "Ana", "age": 3, "email": ""}) == []
    assert codes(judge.check({"name": "", "age": 3})) == [("name", "minLength")]


def test_no_schema_or_a_broken_one_judges_every_lead_invalid() -> None:
    assert codes(SubmissionValidator(None, None).check({})) == [(None, "no_schema")]
    broken = SubmissionValidator({"type": "nope"}, "file")
    assert codes(broken.check({})) == [(None, "schema_error")] and not broken.usable
    assert broken.check({}, only={"a"}) == []  # a screen is not refused for our own mistake


def test_generated_optional_fields_accept_blank_and_keep_their_rules() -> None:
    email = {"type": "string", "format": "email", "pattern": "^[^@]+@[^@]+$"}
    wrapped = Draft202012Validator(blank_allowed(email))
    assert wrapped.is_valid("") and wrapped.is_valid("a@b") and not wrapped.is_valid("ab")
    assert blank_allowed({"type": "string"}) == {"type": "string"}  # already accepts ""


def test_registry_builds_each_flow_once(tmp_path: Path) -> None:
    registry = FlowRegistry.load(ROOT / "flows", ROOT / "schemas")
    appointment = registry.get("appointment")
    assert appointment is not None and appointment.handlers is appointment.module.handlers
    assert appointment.model.endpoint_powered and appointment.schema_source == "file"
    assert registry.get("appointment") is appointment


VALUES = st.one_of(
    st.sampled_from(
        ["", "Ana", "a", "ana@example.com", "ana@example", "+44 7700 900123", "12", "2026-02-30"]
    ),
    st.sampled_from(["2026-12-01", "cardiology", "09:00", "x" * 700]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=3),
    st.text(max_size=12),
)


@pytest.mark.parametrize("flow", ["appointment", "lead_capture"])
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_fields_accepted_on_screen_are_accepted_in_the_lead(flow: str, data: st.DataObject) -> None:
    """Split a submission over screens at random: when every screen accepts its part, the
    whole lead is accepted (same rules, same object); when the lead is refused, some screen
    refuses its part."""
    judge = REGISTRY.get(flow).validator  # type: ignore[union-attr]
    names = sorted(judge.schema["properties"])  # type: ignore[index]
    fields = data.draw(st.fixed_dictionaries({}, optional={n: VALUES for n in names}))
    screens = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    rest = [n for n in names if n not in screens]
    parts = [set(screens), set(rest)]
    on_screens = [judge.check({k: v for k, v in fields.items() if k in p}, only=p) for p in parts]
    assert (not any(on_screens)) == (judge.check(fields) == [])
