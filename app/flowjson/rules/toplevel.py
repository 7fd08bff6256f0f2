"""Top-level keys, versions and the endpoint coupling (flow-json.md §1, §1.1, §4.1)."""

from __future__ import annotations

import re

from app.flowjson.context import Context
from app.flowjson.versions import DATA_API_VERSIONS, FROZEN, PUBLISHED, fmt, parse_version

TOP_KEYS = frozenset(
    {"version", "screens", "routing_model", "data_api_version", "data_channel_uri"}
)
MAX_SCREENS = 100
_URI = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def check_version(ctx: Context) -> None:
    doc = ctx.doc
    if "version" not in doc:
        ctx.error(
            "MISSING_FLOW_JSON_VERSION",
            ctx.base,
            'Flow JSON version is missing; add "version": "7.3".',
        )
        return
    raw = doc["version"]
    pointer = ctx.ptr("version")
    if not isinstance(raw, str):
        ctx.error(
            "INVALID_PROPERTY_TYPE",
            pointer,
            f"Expected property 'version' to be of type string, but found {type(raw).__name__}.",
        )
        return
    version = parse_version(raw)
    if version is None or version not in PUBLISHED:
        ctx.error(
            "INVALID_FLOW_JSON_VERSION",
            pointer,
            f"Flow JSON version '{raw}' does not exist; use one of "
            f"{', '.join(fmt(v) for v in sorted(PUBLISHED))} (7.3 recommended).",
        )
    elif version in FROZEN:
        ctx.warn(
            "UNSUPPORTED_FLOW_JSON_VERSION",
            pointer,
            f"Flow JSON version {raw} is frozen: existing flows still send, but Meta refuses to "
            "publish new flows with it; move to 7.3.",
        )


def check(ctx: Context) -> None:
    doc = ctx.doc
    check_version(ctx)
    for key in doc:
        if key not in TOP_KEYS:
            ctx.error(
                "INVALID_PROPERTY_KEY",
                ctx.ptr(key),
                f"Property '{key}' cannot be specified at the top level; remove it.",
            )
    _check_screens_array(ctx)
    if "data_channel_uri" in doc:
        uri = doc["data_channel_uri"]
        if ctx.since((3, 0)):
            ctx.error(
                "INVALID_PROPERTY_KEY",
                ctx.ptr("data_channel_uri"),
                "data_channel_uri is not supported as of Flow JSON 3.0; set the endpoint through "
                "the Flows API endpoint_uri instead.",
            )
        elif not isinstance(uri, str) or not _URI.match(uri):
            ctx.error(
                "INVALID_PROPERTY_VALUE_FORMAT",
                ctx.ptr("data_channel_uri"),
                "data_channel_uri must be an http(s) URI.",
            )
    if "data_api_version" in doc:
        value = doc["data_api_version"]
        if value not in DATA_API_VERSIONS:
            ctx.error(
                "NO_SUPPORTED_DATA_API_VERSION",
                ctx.ptr("data_api_version"),
                f'data_api_version {value!r} is not supported; use "3.0" or "4.0".',
            )
        if "routing_model" not in doc:
            ctx.error(
                "MISSING_REQUIRED_PROPERTY",
                ctx.ptr("data_api_version"),
                "The property 'routing_model' is required for property 'data_api_version'; "
                "list each screen with the screens it may go to.",
            )
    if not ctx.endpoint:
        for action in ctx.all_actions():
            if action.name == "data_exchange":
                ctx.error(
                    "MISSING_REQUIRED_PROPERTY",
                    action.pointer,
                    "The property 'data_api_version' is required for data_exchange action; add "
                    '"data_api_version": "3.0" and a routing_model, or use navigate/complete.',
                )


def _check_screens_array(ctx: Context) -> None:
    doc = ctx.doc
    if "screens" not in doc:
        ctx.error("MISSING_REQUIRED_PROPERTY", ctx.base, "The property 'screens' is required.")
        return
    screens = doc["screens"]
    pointer = ctx.ptr("screens")
    if not isinstance(screens, list):
        ctx.error(
            "INVALID_PROPERTY_TYPE",
            pointer,
            f"Expected property 'screens' to be of type array, but found {type(screens).__name__}.",
        )
    elif not screens:
        ctx.error("MIN_ITEMS_REQUIRED", pointer, "A flow needs at least one screen.")
    elif len(screens) > MAX_SCREENS:
        ctx.error(
            "MAX_SCREENS_NUMBER",
            pointer,
            f"Maximum number of screens allowed per Flow is {MAX_SCREENS} but found "
            f"{len(screens)}.",
        )
    if isinstance(screens, list):
        for i, screen in enumerate(screens):
            if not isinstance(screen, dict):
                ctx.error(
                    "INVALID_PROPERTY_TYPE",
                    ctx.ptr("screens", i),
                    f"Expected a screen object, but found {type(screen).__name__}.",
                )
