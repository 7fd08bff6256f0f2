"""Submission JSON Schemas (draft 2020-12) derived from a flow's inputs and payloads.

A submission is what the flow sends out: the `complete` payloads and, for endpoint flows,
the merged `data_exchange` payloads. Each payload value is traced to the input it comes
from (`${form.x}`, `${screen.S.form.x}`, or `${data.x}` filled by a navigate payload).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from app.flowjson.context import Component, Context, Screen
from app.flowjson.findings import join
from app.flowjson.pickers import picker_required, picker_schema
from app.flowjson.values import is_expression, is_ref
from app.flowjson.versions import parse_version

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]{5,24}$"
NUMBER_PATTERN = r"^-?[0-9]+([.,][0-9]+)?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class SentField:
    name: str
    pointer: str  # the payload key that sends it
    value: Any
    screen: Screen


def sent_fields(ctx: Context) -> dict[str, list[SentField]]:
    """Top-level payload keys of complete (and, with an endpoint, data_exchange) actions."""
    kinds = {"complete", "data_exchange"} if ctx.endpoint else {"complete"}
    out: dict[str, list[SentField]] = {}
    for screen in ctx.screens:
        for action in screen.actions:
            payload = action.node.get("payload")
            if action.name in kinds and isinstance(payload, dict):
                for key, value in payload.items():
                    field = SentField(key, join(action.pointer, "payload", key), value, screen)
                    out.setdefault(key, []).append(field)
    return out


def component_schema(comp: Component, version: tuple[int, int]) -> dict[str, Any]:
    node, kind = comp.node, comp.type
    schema: dict[str, Any]
    if kind in ("TextInput", "TextArea"):
        schema = {"type": "string"}
        low, high = (
            node.get("min-chars"),
            node.get("max-chars" if kind == "TextInput" else "max-length"),
        )
        if isinstance(low, int) and not isinstance(low, bool):
            schema["minLength"] = low
        schema["maxLength"] = (
            high
            if isinstance(high, int) and not isinstance(high, bool)
            else (80 if kind == "TextInput" else 600)
        )
        input_type = node.get("input-type")
        if input_type == "email":
            schema.update(format="email", pattern=EMAIL_PATTERN)
        elif input_type == "phone":
            schema["pattern"] = PHONE_PATTERN
        elif input_type == "number":
            schema = {"type": ["string", "number"], "pattern": NUMBER_PATTERN}
        if isinstance(node.get("pattern"), str) and not is_ref(node["pattern"]):
            schema["pattern"] = node["pattern"]
    elif kind in ("Dropdown", "RadioButtonsGroup"):
        schema = {"type": "string", **_enum(node)}
    elif kind in ("CheckboxGroup", "ChipsSelector"):
        schema = {"type": "array", "items": {"type": "string", **_enum(node)}}
        for key, word in (("min-selected-items", "minItems"), ("max-selected-items", "maxItems")):
            if isinstance(node.get(key), int) and not isinstance(node[key], bool):
                schema[word] = node[key]
    elif kind == "DatePicker":
        if version >= (5, 0):
            schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
        else:
            schema = {"type": "string", "pattern": "^[0-9]+$"}
    elif kind == "CalendarPicker":
        date = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
        if node.get("mode") == "range":
            schema = {
                "type": "object",
                "properties": {"start-date": date, "end-date": date},
                "required": ["start-date", "end-date"],
            }
        else:
            schema = date
    elif kind == "OptIn":
        schema = {"type": "boolean"}
    elif kind in ("PhotoPicker", "DocumentPicker"):
        schema = picker_schema(node, kind)  # media arrays (app/flowjson/pickers.py)
    else:
        schema = {}
    return schema


def _enum(node: dict[str, Any]) -> dict[str, Any]:
    source = node.get("data-source")
    if isinstance(source, list):
        ids = [i["id"] for i in source if isinstance(i, dict) and isinstance(i.get("id"), str)]
        if ids:
            return {"enum": ids}
    return {}


class _Tracer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def trace(
        self, screen: Screen, value: Any, seen: frozenset[tuple[str, str]]
    ) -> tuple[dict[str, Any], bool]:
        """(schema, required) of a payload value sent from `screen`."""
        if not isinstance(value, str):
            return {"const": value}, True
        if is_expression(value) or (not is_ref(value) and "${" in value):
            return {"type": "string"}, False
        if not is_ref(value):
            return {"const": value}, True
        parts = value[2:-1].split(".")
        if parts[0] == "screen" and len(parts) == 4 and parts[1] in self.ctx.by_id:
            screen, parts = self.ctx.by_id[parts[1]], parts[2:]
        if parts[0] == "form" and len(parts) == 2:
            comp = screen.inputs().get(parts[1])
            if comp is None:
                return {}, False
            required = comp.node.get("required") is True or picker_required(comp.node, comp.type)
            return component_schema(comp, self.ctx.version), required
        if parts[0] == "data" and len(parts) == 2:
            return self._data(screen, parts[1], seen)
        return {}, False

    def _data(
        self, screen: Screen, key: str, seen: frozenset[tuple[str, str]]
    ) -> tuple[dict[str, Any], bool]:
        marker = (screen.id or "", key)
        if marker not in seen:
            for other in self.ctx.screens:
                for action in other.actions:
                    nxt = action.node.get("next")
                    payload = action.node.get("payload")
                    if (
                        action.name == "navigate"
                        and isinstance(nxt, dict)
                        and nxt.get("name") == screen.id
                        and isinstance(payload, dict)
                        and key in payload
                    ):
                        return self.trace(other, payload[key], seen | {marker})
        declared = screen.data.get(key)
        if isinstance(declared, dict) and isinstance(declared.get("type"), str):
            out = {k: v for k, v in declared.items() if k != "__example__"}
            return out, False
        return {}, False


def blank_allowed(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema that also accepts `""`: the WhatsApp client sends an input
    the user left empty as an empty string (docs/leads.md)."""
    try:
        if Draft202012Validator(schema).is_valid(""):
            return schema
    except re.error:  # a Flow JSON `pattern` that is no regex (the validator reports it)
        return schema
    return {"if": {"const": ""}, "else": schema}


def generate_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A draft 2020-12 schema of the flow's submission, to be refined by hand."""
    ctx = Context(doc, parse_version(doc.get("version")))
    tracer = _Tracer(ctx)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key, sends in sent_fields(ctx).items():
        schema, is_required = tracer.trace(sends[0].screen, sends[0].value, frozenset())
        if is_required:
            required.append(key)
        properties[key] = schema if is_required else blank_allowed(schema)
    return {
        "$schema": DRAFT,
        "title": f"{name} submission",
        "description": f"Generated by `flowgate schemas generate {name}`; refine by hand.",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
