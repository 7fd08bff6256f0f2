"""The Cloud API request bodies for Flowgate's three message kinds (docs/protocol.md §10).

Pure functions: what the caller asked for in, the exact JSON Meta expects out. Which fields
each kind accepts and what Flowgate fills in itself (token, entry screen) is decided in
`app.messaging.sending`; docs/messaging.md lists the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEXT = "text"
FLOW = "flow"
TEMPLATE = "template"
KINDS = (TEXT, FLOW, TEMPLATE)
FREE_FORM = (TEXT, FLOW)  # service messages: only inside the 24-hour window

NAVIGATE = "navigate"
DATA_EXCHANGE = "data_exchange"
FLOW_MESSAGE_VERSION = "3"  # §10.5: must be "3"


@dataclass(frozen=True)
class TemplateSpec:
    """An approved template: its name, language code and the caller's components."""

    name: str
    language: str
    components: tuple[dict[str, Any], ...] = ()
    flow_button_index: int = 0


@dataclass(frozen=True)
class MessageRequest:
    """What the API caller asked to send. Fields not used by `type` must be left None."""

    wa_id: str
    type: str
    text: str | None = None
    preview_url: bool | None = None
    flow: str | None = None  # Flowgate's flow name (the file stem)
    meta_flow_id: str | None = None  # Meta's id of the published Flow
    meta_flow_name: str | None = None  # or Meta's name of it (Cloud API only)
    body: str | None = None
    cta: str | None = None
    header: str | None = None
    footer: str | None = None
    flow_token: str | None = None
    flow_action: str | None = None
    screen: str | None = None
    data: dict[str, Any] | None = None
    mode: str | None = None
    ttl_seconds: int | None = None
    template: TemplateSpec | None = None


def _envelope(wa_id: str, kind: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id,
        "type": kind,
    }


def text_body(wa_id: str, text: str, preview_url: bool) -> dict[str, Any]:
    """A free-form text message."""
    return {**_envelope(wa_id, "text"), "text": {"preview_url": preview_url, "body": text}}


def flow_body(
    wa_id: str,
    *,
    flow_token: str,
    meta_flow: tuple[str, str],
    cta: str,
    body: str,
    flow_action: str,
    screen: str | None,
    data: dict[str, Any] | None,
    mode: str,
    header: str | None = None,
    footer: str | None = None,
) -> dict[str, Any]:
    """An interactive Flow message (§10.5). `meta_flow` is ("flow_id" | "flow_name", value).

    `flow_action_payload` only goes with `navigate`; its `data` only when non-empty (Meta
    requires a non-empty object when present).
    """
    parameters: dict[str, Any] = {
        "flow_message_version": FLOW_MESSAGE_VERSION,
        "flow_token": flow_token,
        meta_flow[0]: meta_flow[1],
        "flow_cta": cta,
        "flow_action": flow_action,
    }
    if flow_action == NAVIGATE:
        payload: dict[str, Any] = {"screen": screen}
        if data:
            payload["data"] = data
        parameters["flow_action_payload"] = payload
    parameters["mode"] = mode
    interactive: dict[str, Any] = {"type": "flow"}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    interactive["body"] = {"text": body}
    if footer:
        interactive["footer"] = {"text": footer}
    interactive["action"] = {"name": "flow", "parameters": parameters}
    return {**_envelope(wa_id, "interactive"), "interactive": interactive}


def flow_button(index: int, flow_token: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """The component that fills a template's Flow button (§10.4)."""
    action: dict[str, Any] = {"flow_token": flow_token}
    if data:
        action["flow_action_data"] = data
    return {
        "type": "button",
        "sub_type": "flow",
        "index": str(index),
        "parameters": [{"type": "action", "action": action}],
    }


def template_body(
    wa_id: str, spec: TemplateSpec, button: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A template message (§10.3); `button` is an added Flow button component."""
    components = [*spec.components, *([button] if button is not None else [])]
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    if components:
        template["components"] = components
    return {**_envelope(wa_id, "template"), "template": template}


def is_flow_button(component: Any, index: int | None = None) -> bool:
    """True for a `{"type": "button", "sub_type": "flow"}` component (at `index` if given)."""
    if not isinstance(component, dict):
        return False
    kind = str(component.get("type", "")).lower()
    sub = str(component.get("sub_type", "")).lower()
    if kind != "button" or sub != "flow":
        return False
    return index is None or str(component.get("index")) == str(index)
