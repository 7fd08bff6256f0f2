"""The compiled data-model check agrees with jsonschema on every value (it is only a fast path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from app.flowjson.model import FlowModel
from app.flowjson.quickcheck import compile_schema

ROOT = Path(__file__).resolve().parents[2]

SCHEMAS: list[Any] = [
    {"type": "string"},
    {"type": "number"},
    {"type": "integer"},
    {"type": "boolean"},
    {"type": ["string", "null"]},
    {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "array"}},
        "required": ["a"],
    },
    {"properties": {"x": {"type": "boolean"}}},
    {},
    True,
]
for path in sorted((ROOT / "flows").glob("*.json")):
    for screen in FlowModel(json.loads(path.read_text())).screens.values():
        SCHEMAS.append(screen.validator.schema)
        SCHEMAS.extend(screen.data_model.values())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from([0.0, 1.0, -2.0, 1.5]),
    st.text(max_size=5),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "x", "id", "department", "date"]), inner),
    ),
    max_leaves=12,
)


def test_every_flow_data_model_compiles() -> None:
    assert all(compile_schema(s) is not None for s in SCHEMAS)


def test_unknown_keywords_are_left_to_jsonschema() -> None:
    assert compile_schema({"type": "string", "pattern": "^a"}) is None
    assert compile_schema({"type": "array", "items": [{"type": "string"}]}) is None
    assert compile_schema({"type": "date"}) is None


@settings(max_examples=300, deadline=None)
@given(schema=st.sampled_from(SCHEMAS), value=values)
def test_compiled_check_equals_jsonschema(schema: Any, value: Any) -> None:
    check = compile_schema(schema)
    assert check is not None
    assert check(value) == Draft202012Validator(schema).is_valid(value)


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_screen_answers_with_typed_fields(value: Any) -> None:
    # Values shaped like the appointment screen's data, with hostile leaves.
    model = FlowModel(json.loads((ROOT / "flows" / "appointment.json").read_text()))
    screen = model.screens["APPOINTMENT"]
    data = {k: value for k in screen.data_model}
    assert screen.quick is not None
    assert screen.quick(data) == screen.validator.is_valid(data)
