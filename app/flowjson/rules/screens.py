"""Screen properties, ids, terminal screens and success (flow-json.md §2)."""

from __future__ import annotations

import re

from app.flowjson.context import Context, Screen
from app.flowjson.findings import join
from app.flowjson.rules.footers import footer_count

SCREEN_KEYS = frozenset(
    {"id", "terminal", "success", "title", "refresh_on_back", "data", "layout", "sensitive"}
)
_ID = re.compile(r"^[A-Za-z_]+$")


def check(ctx: Context) -> None:
    seen: set[str] = set()
    for screen in ctx.screens:
        _check_keys(ctx, screen)
        _check_id(ctx, screen, seen)
        _check_layout(ctx, screen)
        _check_flags(ctx, screen)
    _check_terminals(ctx)


def _check_keys(ctx: Context, screen: Screen) -> None:
    for key in screen.node:
        if key not in SCREEN_KEYS:
            ctx.error(
                "INVALID_PROPERTY_KEY",
                join(screen.pointer, key),
                f"Property '{key}' cannot be specified on a screen; remove it.",
            )
        elif key == "sensitive" and not ctx.since((5, 1)):
            ctx.error(
                "INVALID_PROPERTY_KEY",
                join(screen.pointer, key),
                "Screen property 'sensitive' needs Flow JSON 5.1 or later.",
            )
    title = screen.node.get("title")
    if "title" in screen.node and not isinstance(title, str):
        ctx.error(
            "INVALID_PROPERTY_TYPE",
            join(screen.pointer, "title"),
            "Expected property 'title' to be of type string.",
        )
    elif isinstance(title, str) and not title.strip() and ctx.since((6, 0)):
        ctx.error(
            "PATTERN_MISMATCH",
            join(screen.pointer, "title"),
            "Property should not be blank or empty string (Flow JSON 6.0+).",
        )


def _check_id(ctx: Context, screen: Screen, seen: set[str]) -> None:
    pointer = join(screen.pointer, "id")
    if "id" not in screen.node:
        ctx.error(
            "MISSING_REQUIRED_PROPERTY", screen.pointer, "The screen property 'id' is required."
        )
        return
    sid = screen.node["id"]
    if not isinstance(sid, str):
        ctx.error("INVALID_PROPERTY_TYPE", pointer, "Expected screen 'id' to be of type string.")
        return
    if not sid:
        ctx.error("MIN_CHARS_REQUIRED", pointer, "Screen id must have at least 1 character.")
        return
    if sid.upper() == "SUCCESS":
        # Case-insensitivity is UNCONFIRMED; treating both as reserved is the safe reading.
        ctx.error(
            "SCREEN_ID_IS_RESERVED_KEYWORD",
            pointer,
            "Screen id cannot be 'SUCCESS' since it is a reserved keyword; rename the screen.",
        )
    elif not _ID.match(sid):
        ctx.error(
            "PATTERN_MISMATCH",
            pointer,
            f"Screen id '{sid}' should only consist of alphabets and underscores.",
        )
    if sid in seen:
        ctx.error("DUPLICATE_SCREEN_IDS", pointer, f"Duplicate screen id found: '{sid}'.")
    seen.add(sid)


def _check_layout(ctx: Context, screen: Screen) -> None:
    layout = screen.node.get("layout")
    pointer = join(screen.pointer, "layout")
    if layout is None:
        ctx.error(
            "MISSING_REQUIRED_PROPERTY", screen.pointer, "The screen property 'layout' is required."
        )
        return
    if not isinstance(layout, dict):
        ctx.error("INVALID_PROPERTY_TYPE", pointer, "Expected 'layout' to be an object.")
        return
    for key in layout:
        if key not in ("type", "children"):
            ctx.error(
                "INVALID_PROPERTY_KEY",
                join(pointer, key),
                f"Property '{key}' cannot be specified on a layout.",
            )
    if layout.get("type") != "SingleColumnLayout":
        ctx.error(
            "INVALID_PROPERTY_VALUE" if "type" in layout else "MISSING_REQUIRED_PROPERTY",
            join(pointer, "type") if "type" in layout else pointer,
            "Layout type must be 'SingleColumnLayout', the only layout WhatsApp supports.",
        )
    children = layout.get("children")
    if not isinstance(children, list):
        ctx.error(
            "MISSING_REQUIRED_PROPERTY" if children is None else "INVALID_PROPERTY_TYPE",
            pointer if children is None else join(pointer, "children"),
            "Layout 'children' must be an array of components.",
        )


def _check_flags(ctx: Context, screen: Screen) -> None:
    for key in ("terminal", "success", "refresh_on_back"):
        if key in screen.node and not isinstance(screen.node[key], bool):
            ctx.error(
                "INVALID_PROPERTY_TYPE",
                join(screen.pointer, key),
                f"Expected property '{key}' to be of type boolean.",
            )
    if "success" in screen.node and not screen.terminal:
        ctx.error(
            "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED",
            join(screen.pointer, "success"),
            "Property 'success' can only be specified on a terminal screen.",
        )
    if screen.node.get("refresh_on_back") is True and not ctx.endpoint:
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(screen.pointer, "refresh_on_back"),
            "Property 'refresh_on_back' can be true only when property 'data_api_version' is set.",
        )
    sensitive = screen.node.get("sensitive")
    if "sensitive" in screen.node and ctx.since((5, 1)):
        pointer = join(screen.pointer, "sensitive")
        if not isinstance(sensitive, list) or not all(isinstance(x, str) for x in sensitive):
            ctx.error(
                "INVALID_PROPERTY_TYPE", pointer, "'sensitive' must be an array of field names."
            )
            return
        names = screen.inputs()
        for i, name in enumerate(sensitive):
            if name not in names:
                ctx.warn(
                    "INVALID_PROPERTY_VALUE",
                    join(pointer, i),
                    f"'sensitive' names '{name}', which is no input component on this screen.",
                )


def _check_terminals(ctx: Context) -> None:
    if not ctx.screens:
        return
    terminals = [s for s in ctx.screens if s.terminal]
    if not terminals:
        ctx.error(
            "MISSING_TERMINAL_SCREEN",
            ctx.ptr("screens"),
            'Terminal screen is required but not provided; mark the last screen "terminal": true.',
        )
        return
    for screen in terminals:
        if footer_count(screen.children) == 0:
            ctx.error(
                "MISSING_FOOTER_ON_TERMINAL_SCREEN",
                screen.pointer,
                f"Footer component is missing on terminal screen '{screen.id}'; add a Footer "
                "(usually with the complete action).",
            )
    if not any(s.node.get("success", True) is True for s in terminals):
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            ctx.ptr("screens"),
            "At least one terminal screen must have property 'success' set as true.",
        )
