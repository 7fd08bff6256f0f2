"""Dynamic references `${data.x}`, `${form.x}`, `${screen.X.form|data.y}` (§2.1, §4.2)."""

from __future__ import annotations

import re

from app.flowjson import spec
from app.flowjson.context import Component, Context, Screen
from app.flowjson.findings import join
from app.flowjson.rules.datamodel import DATA_TYPES
from app.flowjson.types import data_type
from app.flowjson.values import is_ref, refs, strings_in

_SKIP = frozenset({"children", "then", "else", "cases"})
# Which declared data types may feed a property of each kind through a single `${data.x}`.
_FITS = {
    spec.BOOL: {"boolean"},
    spec.INT: {"number", "integer"},
    spec.NUM: {"number", "integer"},
    spec.DATASOURCE: {"array"},
    spec.LIST: {"array"},
    spec.STRLIST: {"array"},
    spec.OBJ: {"object"},
    spec.STR_OR_OBJ: {"string", "object"},
    spec.STR: {"string", "number", "integer", "boolean"},
    spec.TEXT: {"string", "number", "integer", "boolean", "array"},
}
_ITEM_FIELDS = {
    "NavigationList": ("id", "main-content"),
    **{k: ("id", "title") for k in spec.SELECTS},
}


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        title = screen.node.get("title")
        if isinstance(title, str):
            _check_string(ctx, screen, title, join(screen.pointer, "title"), False)
        for comp in screen.components:
            for key, value in comp.node.items():
                if key in _SKIP or key in ("type", "name"):
                    continue
                for text, pointer, in_payload in strings_in(value, join(comp.pointer, key), False):
                    _check_string(ctx, screen, text, pointer, in_payload)
            _check_fit(ctx, screen, comp)


def _check_string(ctx: Context, screen: Screen, text: str, pointer: str, in_payload: bool) -> None:
    if "${" not in text:
        return
    for body in refs(text):
        message = _problem(ctx, screen, body)
        if message is None:
            continue
        level, code, text_ = message
        if (code == "INVALID_SCREEN_DYNAMIC_DATA" and in_payload) or (
            code == "INVALID_PROPERTY_VALUE" and in_payload and body.startswith("form.")
        ):
            code = "INVALID_ON_CLICK_ACTION_PAYLOAD"
        (ctx.error if level == "error" else ctx.warn)(code, pointer, text_)


def _problem(ctx: Context, screen: Screen, body: str) -> tuple[str, str, str] | None:
    if (fix := _expression_fix(body)) is not None:
        return (
            "error",
            "INVALID_PROPERTY_VALUE",
            f"'${{{body}}}' is an expression written inside a reference; use backticks: "
            f'"{fix}" (nested expressions, Flow JSON 6.0+).',
        )
    parts = body.split(".")
    root = parts[0]
    if root == "data" and len(parts) > 1:
        if parts[1] not in screen.data:
            return (
                "error",
                "INVALID_SCREEN_DYNAMIC_DATA",
                f"Missing dynamic data '${{{body}}}' in the data model of screen '{screen.id}'; "
                f"declare '{parts[1]}' in its 'data'.",
            )
        if len(parts) > 2 and data_type(screen, parts[1:]) is None:
            top = screen.data[parts[1]]
            if isinstance(top, dict) and top.get("type") == "object" and "properties" in top:
                return (
                    "error",
                    "INVALID_SCREEN_DYNAMIC_DATA",
                    f"'${{{body}}}' is not declared in the properties of data '{parts[1]}'.",
                )
        return None
    if root == "form" and len(parts) == 2:
        if parts[1] in screen.inputs():
            return None
        if any(c.type == "Form" and c.name == parts[1] for c in screen.components):
            return (
                "error",
                "INVALID_PROPERTY_VALUE",
                "Value of 'Form' component cannot be used in form binding.",
            )
        return (
            "error",
            "INVALID_PROPERTY_VALUE",
            f"Missing Form component ${{{body}}} for screen '{screen.id}'; ${{form.x}} reads an "
            "input on the same screen (use ${screen.X.form.x} for another screen, 4.0+).",
        )
    if root == "screen" and len(parts) >= 4 and parts[2] in ("form", "data"):
        if not ctx.since((4, 0)):
            return (
                "error",
                "INVALID_PROPERTY_VALUE",
                "Global references ${screen...} need Flow JSON 4.0.",
            )
        other = ctx.by_id.get(parts[1])
        if other is None:
            return (
                "error",
                "INVALID_PROPERTY_VALUE",
                f"'${{{body}}}' is invalid since screen '{parts[1]}' is missing in the Flow JSON.",
            )
        if other is screen:
            return (
                "error",
                "INVALID_PROPERTY_VALUE",
                f"'${{{body}}}' represents current screen. Convert expression to local "
                "referencing.",
            )
        known = other.inputs() if parts[2] == "form" else other.data
        if parts[3] not in known:
            # The validator's check of the far field is UNCONFIRMED: warn only.
            return (
                "warning",
                "INVALID_PROPERTY_VALUE",
                f"Screen '{parts[1]}' has no {parts[2]} field '{parts[3]}'.",
            )
        return None
    return ("error", "INVALID_PROPERTY_VALUE", f"Unknown dynamic reference '${{{body}}}'.")


_PATH = re.compile(r"^\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*(.*)$", re.DOTALL)
_OPERATORS = re.compile(r"==|!=|>=|<=|&&|\|\||[<>!+*/%'()]|\s-\s")


def _expression_fix(body: str) -> str | None:
    """The backtick form of `${form.d != ''}`, i.e. "`${form.d} != ''`"; None for a path."""
    if not _OPERATORS.search(body):
        return None
    match = _PATH.match(body)
    if match is None or not match.group(2):
        return None
    return f"`${{{match.group(1)}}} {match.group(2).strip()}`"


def _check_fit(ctx: Context, screen: Screen, comp: Component) -> None:
    component_spec = spec.SPECS.get(comp.type or "")
    if component_spec is None:
        return
    for key, value in comp.node.items():
        prop = component_spec.props.get(key)
        if prop is None or not is_ref(value) or not value.startswith("${data."):
            continue
        path = value[7:-1].split(".")
        declared = data_type(screen, path)
        fits = _FITS.get(prop.kind)
        if declared not in DATA_TYPES or fits is None:
            continue
        if declared not in fits:
            ctx.error(
                "INVALID_SCREEN_DYNAMIC_DATA",
                join(comp.pointer, key),
                f"Expected '{value}' to be of type '{' or '.join(sorted(fits))}' for property "
                f"'{key}', but the data model declares '{declared}'.",
            )
        elif key in ("data-source", "list-items") and len(path) == 1:
            _check_item_schema(ctx, screen, comp, key, path[0])


def _check_item_schema(ctx: Context, screen: Screen, comp: Component, key: str, field: str) -> None:
    items = screen.data[field].get("items") if isinstance(screen.data[field], dict) else None
    props = items.get("properties") if isinstance(items, dict) else None
    if not isinstance(props, dict):
        return  # an undeclared item shape is tolerated (UNCONFIRMED how strict Meta is)
    missing = [f for f in _ITEM_FIELDS.get(comp.type or "", ()) if f not in props]
    if missing:
        ctx.error(
            "INVALID_SCREEN_DYNAMIC_DATA",
            join(comp.pointer, key),
            f"Data model schema is invalid for '${{data.{field}}}'. Missing schema for "
            f"{', '.join(missing)} in items.properties.",
        )
