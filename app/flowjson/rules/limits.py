"""Per-screen and per-flow component counts and exclusive components (§3.2)."""

from __future__ import annotations

from app.flowjson.context import Context, Screen
from app.flowjson.findings import join
from app.flowjson.rules.footers import branch_count

MAX_COMPONENTS = 50
_COUNTED = (
    ("EmbeddedLink", 2, "MAX_EMBEDDED_LINK_PER_SCREEN"),
    ("Image", 3, "MAX_IMAGE_PER_SCREEN"),
    ("OptIn", 5, "MAX_OPT_IN_PER_SCREEN"),
    ("ImageCarousel", 2, "MAX_IMAGE_CAROUSEL"),
)


def check(ctx: Context) -> None:
    carousels = 0
    for screen in ctx.screens:
        _counts(ctx, screen)
        _navigation_list(ctx, screen)
        _rich_text(ctx, screen)
        carousels += sum(1 for c in screen.components if c.type == "ImageCarousel")
        if carousels > 3:
            last = [c for c in screen.components if c.type == "ImageCarousel"][-1]
            ctx.error("MAX_IMAGE_CAROUSEL", last.pointer, "At most 3 ImageCarousels per flow.")
            carousels = -1000


def _counts(ctx: Context, screen: Screen) -> None:
    if len(screen.components) > MAX_COMPONENTS:
        ctx.error(
            "MAX_COMPONENTS_PER_SCREEN",
            join(screen.pointer, "layout", "children"),
            f"The maximum number of components per screen is {MAX_COMPONENTS} (nested ones "
            f"count); found {len(screen.components)}. Split the screen.",
        )
    for kind, limit, code in _COUNTED:
        if branch_count(screen.children, lambda n, k=kind: n.get("type") == k) > limit:
            last = [c for c in screen.components if c.type == kind][-1]
            ctx.error(code, last.pointer, f"At most {limit} {kind} components per screen.")
    pickers = [c for c in screen.components if c.type in ("PhotoPicker", "DocumentPicker")]
    if len(pickers) > 1:
        ctx.error(
            "MAX_MEDIA_PICKER_PER_SCREEN",
            pickers[1].pointer,
            "You can only have a maximum of 1 component of type PhotoPicker or DocumentPicker "
            "per screen.",
        )


def _navigation_list(ctx: Context, screen: Screen) -> None:
    lists = [c for c in screen.components if c.type == "NavigationList"]
    if not lists:
        return
    if screen.terminal:
        ctx.error(
            "NAVIGATION_LIST_ON_TERMINAL_SCREEN",
            lists[0].pointer,
            "A NavigationList cannot be used on a terminal screen.",
        )
    if len(lists) > 2:
        ctx.error(
            "MAX_NAVIGATION_LIST_PER_SCREEN",
            lists[2].pointer,
            "At most 2 NavigationLists per screen.",
        )
    others = [c for c in screen.components if c.type != "NavigationList"]
    if others:
        ctx.error(
            "NAVIGATION_LIST_NOT_ALONE",
            others[0].pointer,
            "A screen with a NavigationList cannot hold other components.",
        )


def _rich_text(ctx: Context, screen: Screen) -> None:
    if not any(c.type == "RichText" for c in screen.components):
        return
    allowed = {"RichText", "Footer"} if ctx.since((6, 3)) else {"RichText"}
    others = [c for c in screen.components if c.type not in allowed]
    if others:
        ctx.error(
            "RICH_TEXT_NOT_ALONE",
            others[0].pointer,
            "RichText must be the only component on its screen"
            + (" (a Footer is allowed from 6.3)." if ctx.since((6, 3)) else " before 6.3."),
        )
