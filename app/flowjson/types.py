"""Value types of form fields and data references, shared by payload and condition checks."""

from __future__ import annotations

from typing import Any

from app.flowjson.context import Component, Screen

_FORM_TYPES = {
    "TextInput": "string",
    "TextArea": "string",
    "DatePicker": "string",
    "Dropdown": "string",
    "RadioButtonsGroup": "string",
    "CheckboxGroup": "array",
    "ChipsSelector": "array",
    "OptIn": "boolean",
    "PhotoPicker": "array",
    "DocumentPicker": "array",
}


def form_value_type(comp: Component) -> str | None:
    """JSON type of `${form.<name>}`; None when it cannot be told statically."""
    if comp.type == "TextInput" and comp.node.get("input-type") == "number":
        return None  # sent as a number or a numeric string depending on the client (UNCONFIRMED)
    if comp.type == "CalendarPicker":
        mode = comp.node.get("mode", "single")
        return "object" if mode == "range" else "string" if mode == "single" else None
    return _FORM_TYPES.get(comp.type or "")


def data_type(screen: Screen, path: list[str]) -> str | None:
    """Declared type of `${data.a.b}` on `screen`, following object properties; None if unknown."""
    schema: Any = screen.data.get(path[0]) if path else None
    for segment in path[1:]:
        if not isinstance(schema, dict):
            return None
        props = schema.get("properties")
        schema = props.get(segment) if isinstance(props, dict) else None
    if isinstance(schema, dict) and isinstance(schema.get("type"), str):
        return schema["type"]
    return None


def reference_type(screen: Screen, body: str) -> str | None:
    """Type of a `${...}` body such as 'data.x' or 'form.y' read on `screen`."""
    parts = body.split(".")
    if parts[0] == "data" and len(parts) > 1:
        return data_type(screen, parts[1:])
    if parts[0] == "form" and len(parts) == 2:
        comp = screen.inputs().get(parts[1])
        return form_value_type(comp) if comp else None
    return None


def compatible(declared: str, actual: str | None) -> bool:
    if actual is None:
        return True
    if {declared, actual} <= {"number", "integer"}:
        return True
    return declared == actual
