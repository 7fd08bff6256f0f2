"""Check an answer against the Flow JSON the way the WhatsApp client does before rendering it.

The client rejects a next screen the routing model does not allow (`invalid-screen-transition`)
and data that does not match the screen's data model (`payload-schema-error`), and then sends
an error notification (protocol.md §5.1, §6.3). The endpoint runs this check on every answer
before encrypting it, and the emulator runs it on every answer it decrypts.

Rules (stricter than the client where the client is UNCONFIRMED, so nothing slips through):
- a SUCCESS answer carries `extension_message_response.params` with a string `flow_token`;
- otherwise the screen exists and is reachable: after INIT an entry screen (one no route
  leads to); after BACK the same screen or one routing to the request's screen; after
  data_exchange the same screen or one routed from it;
- `data` is an object with every property of the screen's data model, each matching its
  declared schema, and no undeclared key except the optional string `error_message`.
"""

from __future__ import annotations

from typing import Any

from app.endpoint.protocol import BACK, INIT, SUCCESS
from app.flowjson.model import FlowModel


def allowed_screens(model: FlowModel, action: str | None, from_screen: str | None) -> set[str]:
    """Screens an answer to `action` sent from `from_screen` may render."""
    if action == INIT or from_screen is None:
        targets = {t for routes in model.routing.values() for t in routes}
        entries = {s for s in model.screens if s not in targets}
        return entries or ({model.entry_screen} if model.entry_screen else set())
    if action == BACK:
        sources = {s for s, routes in model.routing.items() if from_screen in routes}
        return {from_screen, *sources}
    return {from_screen, *model.next_screens(from_screen)}


def check_data(model: FlowModel, screen_id: str, data: Any) -> list[str]:
    """Problems of `data` as the data of `screen_id` (empty when it matches)."""
    screen = model.screen(screen_id)
    if screen is None:
        return [f"screen {screen_id!r} does not exist"]
    if not isinstance(data, dict):
        return [f"data for {screen_id} must be an object"]
    problems = []
    extra = set(data) - set(screen.data_model) - {"error_message"}
    if extra:
        problems.append(f"{screen_id}: undeclared data {sorted(extra)}")
    if "error_message" in data and not isinstance(data["error_message"], str):
        problems.append(f"{screen_id}: error_message must be a string")
    if screen.validator is not None:
        declared = {k: v for k, v in data.items() if k in screen.data_model}
        if screen.quick is not None and screen.quick(declared):
            return problems  # compiled once per screen; jsonschema only explains failures
        for error in screen.validator.iter_errors(declared):
            where = "/".join(str(p) for p in error.absolute_path) or "data"
            problems.append(f"{screen_id}: {where}: {error.message}")
    return problems


def check_answer(
    model: FlowModel, action: str | None, from_screen: str | None, answer: Any
) -> list[str]:
    """Problems of a next-screen or SUCCESS answer (empty when the client would accept it)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("screen"), str):
        return ["answer must be an object with a string `screen`"]
    screen, data = answer["screen"], answer.get("data")
    if screen == SUCCESS:
        params = (
            (data or {}).get("extension_message_response", {}) if isinstance(data, dict) else {}
        )
        params = params.get("params") if isinstance(params, dict) else None
        if not isinstance(params, dict) or not isinstance(params.get("flow_token"), str):
            return ["SUCCESS needs data.extension_message_response.params.flow_token"]
        return []
    if screen not in model.screens:
        return [f"screen {screen!r} does not exist"]
    allowed = allowed_screens(model, action, from_screen)
    problems = []
    if screen not in allowed:
        problems.append(
            f"invalid-screen-transition: {action} from {from_screen} to {screen} "
            f"(allowed: {sorted(allowed)})"
        )
    return problems + check_data(model, screen, data)
