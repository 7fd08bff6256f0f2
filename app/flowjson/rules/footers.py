"""Footer rules: one per screen counting If/Switch branches, Footers in branches (§3.1, §3.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.flowjson.context import Context, Screen


def branch_count(children: list[Any], pred: Callable[[dict[str, Any]], bool]) -> int:
    """Most components matching `pred` that can render at once (If/Switch take their max branch)."""
    total = 0
    for node in children:
        if not isinstance(node, dict):
            continue
        if pred(node):
            total += 1
        kind = node.get("type")
        if kind == "Form" and isinstance(node.get("children"), list):
            total += branch_count(node["children"], pred)
        elif kind == "If":
            total += max(
                branch_count(node.get("then") or [], pred)
                if isinstance(node.get("then"), list)
                else 0,
                branch_count(node.get("else") or [], pred)
                if isinstance(node.get("else"), list)
                else 0,
            )
        elif kind == "Switch" and isinstance(node.get("cases"), dict):
            total += max(
                (branch_count(c, pred) for c in node["cases"].values() if isinstance(c, list)),
                default=0,
            )
    return total


def _is_footer(node: dict[str, Any]) -> bool:
    return node.get("type") == "Footer"


def footer_count(children: list[Any]) -> int:
    return branch_count(children, _is_footer)


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        _check_screen(ctx, screen)


def _check_screen(ctx: Context, screen: Screen) -> None:
    reported = False
    for comp in screen.components:
        if comp.type == "If":
            then = comp.node.get("then") if isinstance(comp.node.get("then"), list) else []
            other = comp.node.get("else") if isinstance(comp.node.get("else"), list) else []
            if (footer_count(then) > 0) != (footer_count(other) > 0):
                reported = True
                ctx.error(
                    "MISSING_FOOTER_IN_IF_ELSE_BRANCHES",
                    comp.pointer,
                    "A Footer inside an If must appear in both 'then' and 'else'; add the "
                    "missing branch's Footer.",
                )
        elif comp.type == "Switch" and isinstance(comp.node.get("cases"), dict):
            cases = [c for c in comp.node["cases"].values() if isinstance(c, list)]
            with_footer = [footer_count(c) > 0 for c in cases]
            if any(with_footer) and not all(with_footer):
                reported = True
                ctx.error(
                    "MISSING_FOOTER_IN_SWITCH_BRANCHES",
                    comp.pointer,
                    "When one Switch case has a Footer, every case needs one.",
                )
    footers = [c for c in screen.components if c.type == "Footer"]
    for comp in footers:
        if comp.if_depth > 1:
            reported = True
            ctx.error(
                "INVALID_PROPERTY_VALUE",
                comp.pointer,
                "A Footer may only sit in a first-level If, not in a nested one.",
            )
    outside = [c for c in footers if not c.branch]
    inside = [c for c in footers if c.branch]
    if len(outside) > 1:
        reported = True
        ctx.error(
            "MAX_FOOTER_PER_SCREEN",
            outside[1].pointer,
            f"Screen '{screen.id}' has more than one Footer; keep a single Footer.",
        )
    if outside and inside:
        reported = True
        second = max(outside[0], inside[0], key=lambda c: screen.components.index(c))
        ctx.error(
            "MORE_THAN_ONE_FOOTER",
            second.pointer,
            "A Footer inside If/Switch branches cannot be combined with a Footer outside them.",
        )
    if not reported and footer_count(screen.children) > 1:
        ctx.error(
            "MAX_FOOTER_PER_SCREEN",
            screen.pointer,
            f"Screen '{screen.id}' can render more than one Footer at once; keep one per branch.",
        )
