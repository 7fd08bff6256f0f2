"""Per-component properties by version: keys, required, types, enums, blanks, lengths (§3.1)."""

from __future__ import annotations

from typing import Any

from app.flowjson import sources, spec
from app.flowjson.context import Component, Context
from app.flowjson.findings import join
from app.flowjson.values import is_blank, is_dynamic, is_expression, mixes_static_and_dynamic
from app.flowjson.versions import fmt

TEXT_COMPONENTS = frozenset(
    {"TextHeading", "TextSubheading", "TextBody", "TextCaption", "RichText", "EmbeddedLink"}
)
_NO_BLANK_SCAN = frozenset({"children", "then", "else", "cases", *("on-click-action",)})
_NO_MIX_CHECK = frozenset({"type", "name", "condition", "value"})


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        for comp in screen.components:
            check_component(ctx, comp)


def check_component(ctx: Context, comp: Component) -> None:
    node = comp.node
    if "type" not in node:
        ctx.error(
            "MISSING_REQUIRED_TYPE_PROPERTY", comp.pointer, "Component is missing property 'type'."
        )
        return
    kind = node["type"]
    component_spec = spec.SPECS.get(kind) if isinstance(kind, str) else None
    if component_spec is None:
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(comp.pointer, "type"),
            f"Unknown component type {kind!r}.",
        )
        return
    if not ctx.since(component_spec.since):
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(comp.pointer, "type"),
            f"{kind} needs Flow JSON {fmt(component_spec.since)} or later; raise 'version'.",
        )
        return
    for key, value in node.items():
        if key == "type":
            continue
        prop = component_spec.props.get(key)
        pointer = join(comp.pointer, key)
        if prop is None or (prop.since is not None and not ctx.since(prop.since)):
            hint = f" (needs Flow JSON {fmt(prop.since)})" if prop and prop.since else ""
            ctx.error(
                "INVALID_PROPERTY_KEY",
                pointer,
                f"Property '{key}' cannot be specified on {kind}{hint}; remove it.",
            )
            continue
        _check_value(ctx, comp, key, prop, value, pointer)
    for key in component_spec.required:
        if key not in node:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                comp.pointer,
                f"{kind} requires property '{key}'.",
            )
    for key, since in component_spec.required_from.items():
        if ctx.since(since) and key not in node:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                comp.pointer,
                f"{kind} requires property '{key}' from Flow JSON {fmt(since)}.",
            )
    if ctx.since((6, 0)) or kind in TEXT_COMPONENTS:
        _check_blanks(ctx, comp, node, comp.pointer, top=True)


def _check_value(
    ctx: Context, comp: Component, key: str, prop: spec.Prop, value: Any, pointer: str
) -> None:
    kind = prop.kind
    if isinstance(value, str) and key not in _NO_MIX_CHECK:
        if is_expression(value) and not ctx.since((6, 0)):
            ctx.error(
                "INVALID_PROPERTY_VALUE",
                pointer,
                "Nested expressions in backticks need Flow JSON 6.0 or later.",
            )
            return
        if mixes_static_and_dynamic(value):
            ctx.error(
                "PATTERN_MISMATCH",
                pointer,
                f"Property '{key}' mixes static text with dynamic data; use a single '${{...}}' "
                "or a backtick expression (6.0+).",
            )
            return
    dynamic = is_dynamic(value)
    problem: str | None = None
    if kind in (spec.STR,) and not isinstance(value, str):
        problem = "string"
    elif kind == spec.TEXT and not (
        isinstance(value, str)
        or (
            ctx.since((5, 1)) and isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
    ):
        problem = "string" if not ctx.since((5, 1)) else "string or array of strings"
    elif kind == spec.BOOL and not (isinstance(value, bool) or dynamic):
        if isinstance(value, str):
            ctx.error(
                "PATTERN_MISMATCH",
                pointer,
                f"Property '{key}' should be of type 'boolean' or have dynamic data format "
                "'${data.x}'.",
            )
            return
        problem = "boolean"
    elif kind in (spec.INT, spec.NUM):
        if isinstance(value, str) and not dynamic:
            try:
                float(value)
            except ValueError:
                ctx.error(
                    "PATTERN_MISMATCH",
                    pointer,
                    f"Property '{key}' should be of type '{kind}' or have dynamic data format.",
                )
                return
        elif (
            not isinstance(value, str)
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ) or (kind == spec.INT and isinstance(value, float) and not value.is_integer()):
            problem = kind
    elif kind == spec.STRLIST and not (
        dynamic or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        problem = "array of strings"
    elif kind in (spec.DATASOURCE, spec.LIST) and not (dynamic or isinstance(value, list)):
        problem = "array"
    elif (kind == spec.ACTION and not isinstance(value, dict)) or (
        kind == spec.OBJ and not (dynamic or isinstance(value, dict))
    ):
        problem = "object"
    elif kind == spec.STR_OR_OBJ and not isinstance(value, str | dict):
        problem = "string or object"
    elif kind == spec.CHILDREN and not isinstance(value, list):
        problem = "array"
    elif kind == spec.CASES and not isinstance(value, dict):
        problem = "object"
    if problem:
        ctx.error(
            "INVALID_PROPERTY_TYPE",
            pointer,
            f"Expected property '{key}' to be of type {problem}, but found {type(value).__name__}.",
        )
        return
    if prop.enum and isinstance(value, str) and not dynamic and value not in prop.enum:
        ctx.error(
            "INVALID_ENUM_VALUE",
            pointer,
            f"Value should be one of: [{', '.join(prop.enum)}].",
        )
    if prop.maxlen and isinstance(value, str) and not dynamic and len(value) > prop.maxlen:
        # Meta documents these limits but never says a longer value is rejected (several are
        # "content will truncate"): a WARNING citing the page (docs/flow-validation.md).
        ctx.warn(
            "MAX_CHARS_EXCEEDED",
            pointer,
            f"Property '{key}' has {len(value)} characters; Meta's components reference gives "
            f"{prop.maxlen}{_other_reading(comp.type, key)} and does not say longer text is "
            "rejected (WhatsApp may truncate it).",
            source=sources.M_COMP,
        )


# Limits where pywa's reading differs from Meta's page (flow-json.md §3.1).
_PYWA_LIMITS = {("Dropdown", "label"): 30, ("OptIn", "label"): 30, ("EmbeddedLink", "text"): 35}


def _other_reading(kind: str | None, key: str) -> str:
    other = _PYWA_LIMITS.get((kind or "", key))
    return f" (pywa uses {other})" if other else ""


def _check_blanks(ctx: Context, comp: Component, value: Any, pointer: str, top: bool) -> None:
    """Empty or whitespace-only strings: rejected from 6.0, and in text components always."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if top and key in _NO_BLANK_SCAN:
                continue
            if key in ("payload", "on-click-action", "on-select-action", "on-unselect-action"):
                continue
            _check_blanks(ctx, comp, sub, join(pointer, key), top=False)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _check_blanks(ctx, comp, sub, join(pointer, i), top=False)
    elif is_blank(value):
        if not ctx.since((6, 0)) and not pointer.endswith("/text"):
            return
        ctx.error(
            "PATTERN_MISMATCH",
            pointer,
            "Property should not be blank or empty string.",
        )
