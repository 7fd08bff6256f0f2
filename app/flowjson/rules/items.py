"""Item lists: data-source options, NavigationList list-items, ImageCarousel images (§3.1)."""

from __future__ import annotations

import re
from typing import Any

from app.flowjson import sources
from app.flowjson.context import Component, Context
from app.flowjson.findings import join

_OPTION_COUNTS = {
    "CheckboxGroup": (1, 20),
    "RadioButtonsGroup": (1, 20),
    "Dropdown": (1, 200),
    "ChipsSelector": (2, 20),
}
_OPTION_LIMITS = {"title": 30, "description": 300, "metadata": 20}
_NAV_KEYS = {"id", "main-content", "start", "end", "badge", "tags", "on-click-action"}
_NAV_PARTS = {
    "main-content": (
        {"title", "description", "metadata"},
        {"title": 30, "description": 20, "metadata": 80},
    ),
    "start": ({"image", "alt-text"}, {}),
    "end": ({"title", "description", "metadata"}, {"title": 10, "description": 10, "metadata": 10}),
}
_COLOR = re.compile(r"^#?[0-9A-Fa-f]{6}$")


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        for comp in screen.components:
            if comp.type in _OPTION_COUNTS and isinstance(comp.node.get("data-source"), list):
                _options(ctx, comp, comp.node["data-source"])
            elif comp.type == "NavigationList" and isinstance(comp.node.get("list-items"), list):
                _nav_items(ctx, comp, comp.node["list-items"])
            elif comp.type == "ImageCarousel" and isinstance(comp.node.get("images"), list):
                _carousel(ctx, comp, comp.node["images"])


def _count(ctx: Context, pointer: str, items: list[Any], low: int, high: int, what: str) -> None:
    if len(items) < low:
        ctx.error("MIN_ITEMS_REQUIRED", pointer, f"{what} needs at least {low} item(s).")
    elif len(items) > high:
        ctx.error("MAX_ITEMS_EXCEEDED", pointer, f"{what} allows at most {high} items.")


def _option_keys(ctx: Context, kind: str) -> set[str]:
    if kind == "ChipsSelector":
        return {"id", "title", "enabled", "on-select-action", "on-unselect-action"}
    keys = {"id", "title", "description", "metadata", "enabled"}
    if ctx.since((5, 0)):
        keys |= {"image", "alt-text", "color"}
    if ctx.since((6, 0)):
        keys |= {"on-select-action", "on-unselect-action"}
    return keys


def _options(ctx: Context, comp: Component, items: list[Any]) -> None:
    kind = comp.type or ""
    pointer = join(comp.pointer, "data-source")
    low, high = _OPTION_COUNTS[kind]
    if kind == "Dropdown" and any(isinstance(i, dict) and "image" in i for i in items):
        high = 100
    _count(ctx, pointer, items, low, high, f"{kind} data-source")
    allowed = _option_keys(ctx, kind)
    ids: set[Any] = set()
    for i, item in enumerate(items):
        item_ptr = join(pointer, i)
        if not isinstance(item, dict):
            ctx.error("INVALID_PROPERTY_TYPE", item_ptr, "A data-source item must be an object.")
            continue
        for key in item:
            if key not in allowed:
                ctx.error(
                    "INVALID_PROPERTY_KEY",
                    join(item_ptr, key),
                    f"Property '{key}' cannot be specified on a {kind} option.",
                )
        for key in ("id", "title"):
            if key not in item:
                ctx.error("MISSING_REQUIRED_PROPERTY", item_ptr, f"Option requires '{key}'.")
        if item.get("id") in ids:
            ctx.warn(
                "INVALID_PROPERTY_VALUE",
                join(item_ptr, "id"),
                f"Option id {item.get('id')!r} is used twice; the answer cannot tell them apart.",
            )
        ids.add(item.get("id") if isinstance(item.get("id"), str) else object())
        for key, limit in _OPTION_LIMITS.items():
            value = item.get(key)
            if isinstance(value, str) and len(value) > limit:
                ctx.warn(
                    "MAX_CHARS_EXCEEDED",
                    join(item_ptr, key),
                    f"Option {key} has {len(value)} characters; Meta's components reference "
                    f"gives {limit} and does not say longer text is rejected.",
                    source=sources.M_COMP,
                )
        color = item.get("color")
        if isinstance(color, str) and not _COLOR.match(color):
            ctx.error(
                "INVALID_PROPERTY_VALUE_FORMAT",
                join(item_ptr, "color"),
                "Option color must be a 6-digit hex colour.",
            )
        image = item.get("image")
        limit_kb = 100 if ctx.since((6, 0)) else 300
        if isinstance(image, str) and len(image) * 3 // 4 > limit_kb * 1024:
            ctx.warn(
                "INVALID_PROPERTY_VALUE",
                join(item_ptr, "image"),
                f"Option image is larger than {limit_kb} KB.",
            )


def _nav_items(ctx: Context, comp: Component, items: list[Any]) -> None:
    pointer = join(comp.pointer, "list-items")
    _count(ctx, pointer, items, 1, 20, "NavigationList list-items")
    component_action = "on-click-action" in comp.node
    large = comp.node.get("media-size") == "large"
    badges = 0
    for i, item in enumerate(items):
        item_ptr = join(pointer, i)
        if not isinstance(item, dict):
            ctx.error("INVALID_PROPERTY_TYPE", item_ptr, "A list item must be an object.")
            continue
        for key in item:
            if key not in _NAV_KEYS:
                ctx.error(
                    "INVALID_PROPERTY_KEY",
                    join(item_ptr, key),
                    f"Property '{key}' cannot be specified on a NavigationList item.",
                )
        if "id" not in item:
            ctx.error("MISSING_REQUIRED_PROPERTY", item_ptr, "List item requires 'id'.")
        main = item.get("main-content")
        if not isinstance(main, dict) or "title" not in main:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                item_ptr if not isinstance(main, dict) else join(item_ptr, "main-content"),
                "List item requires 'main-content' with a 'title'.",
            )
        start = item.get("start")
        if isinstance(start, dict) and "image" not in start:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                join(item_ptr, "start"),
                "'start' requires 'image'.",
            )
        for part, (keys, limits) in _NAV_PARTS.items():
            value = item.get(part)
            if not isinstance(value, dict):
                continue
            for key, sub in value.items():
                sub_ptr = join(item_ptr, part, key)
                if key not in keys:
                    ctx.error(
                        "INVALID_PROPERTY_KEY",
                        sub_ptr,
                        f"Property '{key}' cannot be specified in '{part}'.",
                    )
                elif isinstance(sub, str) and key in limits and len(sub) > limits[key]:
                    ctx.warn(
                        "MAX_CHARS_EXCEEDED",
                        sub_ptr,
                        f"'{part}.{key}' has {len(sub)} characters; WhatsApp truncates after "
                        f"{limits[key]}.",
                        source=sources.M_COMP,
                    )
        if "end" in item and large:
            ctx.error(
                "INVALID_PROPERTY_VALUE",
                join(item_ptr, "end"),
                "List items cannot have 'end' when media-size is 'large'.",
            )
        if "badge" in item:
            badges += 1
            if badges == 2:
                ctx.error(
                    "INVALID_PROPERTY_VALUE",
                    join(item_ptr, "badge"),
                    "At most one NavigationList item may have a badge.",
                )
        tags = item.get("tags")
        if isinstance(tags, list) and len(tags) > 3:
            ctx.error("MAX_ITEMS_EXCEEDED", join(item_ptr, "tags"), "At most 3 tags per item.")
        has_action = "on-click-action" in item
        if has_action and component_action:
            ctx.error(
                "INVALID_PROPERTY_VALUE",
                join(item_ptr, "on-click-action"),
                "Set on-click-action on the NavigationList or on every item, never both.",
            )
        elif not has_action and not component_action:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                item_ptr,
                "List item needs an on-click-action (or set one on the NavigationList).",
            )


def _carousel(ctx: Context, comp: Component, images: list[Any]) -> None:
    pointer = join(comp.pointer, "images")
    _count(ctx, pointer, images, 1, 3, "ImageCarousel images")
    for i, image in enumerate(images):
        if not isinstance(image, dict):
            ctx.error("INVALID_PROPERTY_TYPE", join(pointer, i), "An image must be an object.")
            continue
        for key in image:
            if key not in ("src", "alt-text"):
                ctx.error(
                    "INVALID_PROPERTY_KEY",
                    join(pointer, i, key),
                    f"Property '{key}' cannot be specified on a carousel image.",
                )
        for key in ("src", "alt-text"):
            if key not in image:
                ctx.error(
                    "MISSING_REQUIRED_PROPERTY",
                    join(pointer, i),
                    f"Carousel image requires '{key}'.",
                )
