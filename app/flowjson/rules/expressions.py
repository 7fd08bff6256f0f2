"""Backtick expressions everywhere they may appear, and static text mixed with `${...}` in
action payloads (flow-json.md §4.3).

Each backtick string (component properties, screen titles, action payloads) goes through the
same parser and type rules as If conditions (`conditions.expression_problem`). Expressions
need Flow JSON 6.0; a component's own top-level property is already refused before 6.0 by
the component rules, so only nested strings (payloads, objects) are refused here.
"""

from __future__ import annotations

from app.flowjson import sources, spec
from app.flowjson.context import Context, Screen
from app.flowjson.findings import join
from app.flowjson.rules.conditions import expression_problem
from app.flowjson.values import is_expression, mixes_static_and_dynamic, strings_in

_SKIP = frozenset({"children", "then", "else", "cases", "type", "name", "condition", "value"})
_ACTION_KEYS = frozenset({"on-click-action", "on-select-action", "on-unselect-action"})
# What an expression may produce for a property of each kind (None: unknown, accepted).
_RESULTS = {spec.BOOL: {"boolean"}, spec.INT: {"number"}, spec.NUM: {"number"}}


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        title = screen.node.get("title")
        if isinstance(title, str) and is_expression(title):
            _expression(ctx, screen, title, join(screen.pointer, "title"), None, True)
        for comp in screen.components:
            component_spec = spec.SPECS.get(comp.type or "")
            for key, value in comp.node.items():
                if key in _SKIP:
                    continue
                prop = component_spec.props.get(key) if component_spec else None
                top = join(comp.pointer, key)
                for text, pointer, in_payload in strings_in(value, top, False):
                    if is_expression(text):
                        kind = prop.kind if prop is not None and pointer == top else None
                        _expression(ctx, screen, text, pointer, kind, pointer == top)
                    elif in_payload and key in _ACTION_KEYS and mixes_static_and_dynamic(text):
                        ctx.error(
                            "INVALID_ON_CLICK_ACTION_PAYLOAD",
                            pointer,
                            "Static text mixed with dynamic data; wrap the whole value in "
                            "backticks to join them, e.g. \"`'Addr: ' ${data.city}`\" (6.0+), "
                            "or send the reference alone.",
                        )


def _expression(
    ctx: Context, screen: Screen, text: str, pointer: str, kind: str | None, top: bool
) -> None:
    if not ctx.since((6, 0)):
        if not top:  # a component's own property is refused by the component rules
            ctx.error(
                "INVALID_PROPERTY_VALUE",
                pointer,
                "Nested expressions in backticks need Flow JSON 6.0 or later.",
            )
        return
    message, result = expression_problem(text, screen)
    if message is not None:
        ctx.error("INVALID_PROPERTY_VALUE", pointer, f"Invalid expression: {message}")
        return
    wanted = _RESULTS.get(kind or "")
    if wanted and result is not None and result not in wanted:
        ctx.warn(
            "INVALID_PROPERTY_TYPE",
            pointer,
            f"The expression gives a {result}, but the property takes a "
            f"{' or '.join(sorted(wanted))}; Meta does not document how it converts it.",
            source=sources.M_FJ,
        )
