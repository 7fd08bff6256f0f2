"""Screen `data` models: types, `items`, and `__example__` (flow-json.md §2.1)."""

from __future__ import annotations

from typing import Any

from app.flowjson.context import Context, Screen
from app.flowjson.findings import join

DATA_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array"})


def json_type(value: Any) -> str:
    """JSON Schema type name of a Python value (bool before int: bool is an int subclass)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_matches(declared: str, value: Any) -> bool:
    actual = json_type(value)
    if declared == "integer":
        return actual == "number" and float(value).is_integer()
    return declared == actual


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        if "data" not in screen.node:
            continue
        data = screen.node["data"]
        pointer = join(screen.pointer, "data")
        if not isinstance(data, dict):
            ctx.error("INVALID_PROPERTY_TYPE", pointer, "Screen 'data' must be an object.")
            continue
        for name, schema in data.items():
            _check_field(ctx, screen, join(pointer, name), schema, top=True)


def _check_field(ctx: Context, screen: Screen, pointer: str, schema: Any, top: bool) -> None:
    if isinstance(schema, bool) and not top:
        return
    if not isinstance(schema, dict):
        ctx.error("INVALID_SCREEN_DATA", pointer, "A data model property must be an object.")
        return
    declared = schema.get("type")
    if "type" not in schema:
        ctx.error(
            "INVALID_SCREEN_DATA",
            pointer,
            "Missing the definition of property 'type'; add one of string, number, boolean, "
            "object, array.",
        )
    elif not isinstance(declared, str) or declared not in DATA_TYPES:
        ctx.error(
            "INVALID_SCREEN_DATA",
            join(pointer, "type"),
            f"Data type {declared!r} is not one of string, number, boolean, object, array.",
        )
        declared = None
    if declared == "array":
        if "items" not in schema:
            ctx.error(
                "INVALID_SCREEN_DATA",
                pointer,
                "Missing the schema for property 'items' in array.",
            )
        elif not isinstance(schema["items"], bool | dict):
            ctx.error("INVALID_SCREEN_DATA", join(pointer, "items"), "'items' must be an object.")
        else:
            _check_field(ctx, screen, join(pointer, "items"), schema["items"], top=False)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            _check_field(ctx, screen, join(pointer, "properties", key), sub, top=False)
    if top:
        if "__example__" not in schema:
            ctx.error(
                "INVALID_SCREEN_DATA",
                pointer,
                "Property '__example__' is mandatory for each top-level data field; add a "
                "sample value of the declared type.",
            )
        elif isinstance(declared, str) and not type_matches(declared, schema["__example__"]):
            actual = json_type(schema["__example__"])
            ctx.error(
                "INVALID_SCREEN_DATA",
                join(pointer, "__example__"),
                f"Expected property '__example__' to be of type {declared}, but found {actual}.",
            )
    elif "__example__" in schema:
        ctx.error(
            "INVALID_SCREEN_DATA",
            join(pointer, "__example__"),
            "Property '__example__' is allowed only as a top level property of data model.",
        )
