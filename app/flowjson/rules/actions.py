"""Actions: where each is allowed, their shape, navigate payloads, update_data keys (§4.1)."""

from __future__ import annotations

from typing import Any

from app.flowjson import spec
from app.flowjson.context import Action, Context
from app.flowjson.findings import join
from app.flowjson.rules.datamodel import json_type
from app.flowjson.types import compatible, reference_type
from app.flowjson.values import is_ref, refs

_KEYS = {
    "navigate": {"name", "next", "payload"},
    "complete": {"name", "payload"},
    "data_exchange": {"name", "payload"},
    "update_data": {"name", "payload"},
    "open_url": {"name", "url"},
}
_SELECTS = ("CheckboxGroup", "RadioButtonsGroup", "Dropdown")


def allowed_actions(ctx: Context, action: Action) -> set[str]:
    kind, slot = action.component.type, action.slot
    v6 = ctx.since((6, 0))
    if action.item:
        if kind == "NavigationList":
            return {"navigate", "data_exchange"}
        return {"update_data"}
    if kind == "Footer":
        return {"navigate", "data_exchange", "complete"}
    if kind in ("EmbeddedLink", "OptIn") and slot == "on-click-action":
        # update_data on EmbeddedLink is PYWA-only (UNCONFIRMED): accepted, tolerant.
        extra = {"open_url", "update_data"} if kind == "EmbeddedLink" else {"open_url"}
        return {"navigate", "data_exchange"} | (extra if v6 else set())
    if kind == "NavigationList":
        return {"navigate", "data_exchange"}
    if kind in _SELECTS or kind == "OptIn":
        if slot == "on-unselect-action":
            return {"update_data"}
        base = {"data_exchange"} if kind != "OptIn" else set()
        return base | ({"update_data"} if v6 else set())
    if kind == "ChipsSelector":
        return {"data_exchange", "update_data"}
    if kind in ("DatePicker", "CalendarPicker"):
        return {"data_exchange"}
    return set()


def check(ctx: Context) -> None:
    for action in ctx.all_actions():
        _check_action(ctx, action)


def _check_action(ctx: Context, action: Action) -> None:
    node, pointer = action.node, action.pointer
    name = node.get("name")
    if "name" not in node:
        ctx.error("MISSING_REQUIRED_PROPERTY", pointer, "Action requires property 'name'.")
        return
    allowed = allowed_actions(ctx, action)
    if name not in allowed:
        where = action.component.type or "component"
        ctx.error(
            "INVALID_ENUM_VALUE",
            join(pointer, "name"),
            f"Action {name!r} is not allowed in {where} {action.slot}; value should be one of: "
            f"[{', '.join(sorted(allowed))}].",
        )
        return
    for key in node:
        if key not in _KEYS[name]:
            ctx.error(
                "INVALID_PROPERTY_KEY",
                join(pointer, key),
                f"Property '{key}' cannot be specified on a {name} action.",
            )
    payload = node.get("payload")
    if "payload" in node and not isinstance(payload, dict):
        ctx.error(
            "INVALID_PROPERTY_TYPE", join(pointer, "payload"), "Action 'payload' must be an object."
        )
        payload = None
    if name == "complete" and not action.component.screen.terminal:
        ctx.error(
            "INVALID_COMPLETE_ACTION",
            pointer,
            "On-click-action 'complete' can only be configured on a terminal screen; use "
            "navigate or data_exchange here, or make the screen terminal.",
        )
    if name == "navigate":
        _navigate(ctx, action, payload)
    elif name == "open_url":
        if not isinstance(node.get("url"), str):
            ctx.error("MISSING_REQUIRED_PROPERTY", pointer, "open_url requires a string 'url'.")
    elif name == "update_data" and payload is not None:
        data = action.component.screen.data
        for key in payload:
            if key not in data:
                ctx.error(
                    "INVALID_ACTION_PAYLOAD_PROPERTY",
                    join(pointer, "payload", key),
                    f"The following property ({key}) does not exist in the screen data model.",
                )
    if name in ("complete", "data_exchange") and payload:
        _nested_pickers(ctx, action, payload, join(pointer, "payload"), top=True)


def _picker_names(action: Action) -> set[str]:
    return {n for n, c in action.component.screen.inputs().items() if c.type in spec.MEDIA_PICKERS}


def _nested_pickers(ctx: Context, action: Action, value: Any, pointer: str, top: bool) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _nested_pickers(ctx, action, sub, join(pointer, key), top=False)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _nested_pickers(ctx, action, sub, join(pointer, i), top=False)
    elif isinstance(value, str) and not top:
        pickers = _picker_names(action)
        depth = pointer.count("/") - action.pointer.count("/")
        if depth > 2 and any(r in {f"form.{p}" for p in pickers} for r in refs(value)):
            ctx.error(
                "INVALID_ON_CLICK_ACTION_PAYLOAD",
                pointer,
                "Media picker values may only be the value of a top-level payload key.",
            )


def _navigate(ctx: Context, action: Action, payload: dict[str, Any] | None) -> None:
    node, pointer = action.node, action.pointer
    screen = action.component.screen
    nxt = node.get("next")
    if not isinstance(nxt, dict):
        ctx.error(
            "MISSING_REQUIRED_PROPERTY" if nxt is None else "INVALID_PROPERTY_TYPE",
            pointer if nxt is None else join(pointer, "next"),
            'navigate requires "next": {"type": "screen", "name": "<SCREEN_ID>"}.',
        )
        return
    if nxt.get("type", "screen") == "plugin":
        ctx.warn(
            "INVALID_ENUM_VALUE",
            join(pointer, "next", "type"),
            "next.type 'plugin' is undocumented by Meta; only 'screen' is.",
        )
        return
    if nxt.get("type", "screen") != "screen":
        ctx.error(
            "INVALID_ENUM_VALUE", join(pointer, "next", "type"), "Value should be one of: [screen]."
        )
    target_id = nxt.get("name")
    name_ptr = join(pointer, "next", "name")
    if target_id not in ctx.by_id:
        ctx.error(
            "INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME",
            name_ptr if "name" in nxt else join(pointer, "next"),
            f"Unknown screen ids found: {target_id!r}; navigate to one of "
            f"{', '.join(sorted(ctx.by_id))}.",
        )
        return
    if target_id == screen.id:
        ctx.error(
            "INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME",
            name_ptr,
            f"Same screen navigation is not allowed. Loop detected at [{screen.id}].",
        )
        return
    if action.component.type == "Footer" and screen.terminal:
        ctx.warn(
            "NAVIGATE_ON_TERMINAL_SCREEN",
            pointer,
            "A terminal screen's Footer should complete the flow rather than navigate.",
        )
    target = ctx.by_id[target_id]
    _navigate_payload(ctx, action, payload or {}, target)


def _navigate_payload(ctx: Context, action: Action, payload: dict[str, Any], target: Any) -> None:
    pointer = join(action.pointer, "payload")
    data = target.data
    if payload and not data:
        ctx.error(
            "INVALID_NAVIGATE_ACTION_PAYLOAD",
            pointer,
            f"No data model is defined in the next screen '{target.id}'; declare its 'data' or "
            "send an empty payload.",
        )
        return
    pickers = _picker_names(action)
    for key, value in payload.items():
        key_ptr = join(pointer, key)
        if key not in data:
            ctx.error(
                "INVALID_NAVIGATE_ACTION_PAYLOAD",
                key_ptr,
                f"Following fields are missing in the next screen's data model: {key}; declare "
                f"it in '{target.id}' data or drop it.",
            )
            continue
        if isinstance(value, str) and any(r in {f"form.{p}" for p in pickers} for r in refs(value)):
            ctx.error(
                "INVALID_NAVIGATE_ACTION_PAYLOAD",
                key_ptr,
                "PhotoPicker and DocumentPicker values cannot be sent in a navigate payload.",
            )
            continue
        declared = data[key].get("type") if isinstance(data[key], dict) else None
        if not isinstance(declared, str):
            continue
        actual = (
            reference_type(action.component.screen, value[2:-1])
            if is_ref(value)
            else None
            if isinstance(value, str) and "${" in value
            else json_type(value)
        )
        if not compatible(declared, actual):
            ctx.error(
                "INVALID_NAVIGATE_ACTION_PAYLOAD",
                key_ptr,
                f"Schema of payload data at '{key}': property is expecting '{declared}' but got "
                f"'{actual}'.",
            )
    missing = [k for k in data if k not in payload]
    if missing:
        ctx.error(
            "INVALID_NAVIGATE_ACTION_PAYLOAD",
            pointer if "payload" in action.node else action.pointer,
            "Following fields are expected in the next screen's data model but missing in "
            f"payload: {', '.join(missing)}.",
        )
