"""Turn an API caller's request into the exact Cloud API body, refusing what does not fit.

Each kind takes only its own fields (a field of another kind is a 400 naming it, so a typo
cannot silently change what is sent). Flowgate fills in what it owns: a signed flow token
bound to the flow and the recipient (unless the caller brings one), the entry screen, and the
Flow button of a template. No I/O here besides reading the flow registry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from app.crypto.tokens import DEFAULT_TTL_SECONDS, MAX_TOKEN_LENGTH, MAX_TTL_SECONDS, issue_token
from app.errors import InvalidRequest
from app.flowjson.registry import FlowDefinition, FlowRegistry
from app.messaging.graph import SendingNotConfigured
from app.messaging.payloads import (
    DATA_EXCHANGE,
    FLOW,
    NAVIGATE,
    TEMPLATE,
    TEXT,
    MessageRequest,
    TemplateSpec,
    flow_body,
    flow_button,
    is_flow_button,
    template_body,
    text_body,
)

_SURROGATE = re.compile("[\ud800-\udfff]")

# The request fields each kind may carry (besides wa_id and type); anything else is a 400.
ALLOWED = {
    TEXT: {"text", "preview_url"},
    FLOW: {
        "flow",
        "meta_flow_id",
        "meta_flow_name",
        "body",
        "cta",
        "header",
        "footer",
        "flow_token",
        "flow_action",
        "screen",
        "data",
        "mode",
        "ttl_seconds",
    },
    TEMPLATE: {"template", "flow", "flow_token", "data", "ttl_seconds"},
}
OPTIONAL = ("preview_url", "flow", "meta_flow_id", "meta_flow_name", "body", "cta", "header")
OPTIONAL += ("footer", "flow_token", "flow_action", "screen", "data", "mode", "ttl_seconds")
OPTIONAL += ("text", "template")


@dataclass(frozen=True)
class Prepared:
    """A checked request: the exact body for Meta and what to store about it."""

    kind: str
    wa_id: str
    body: dict[str, Any]
    flow: str | None = None
    flow_token: str | None = None


def prepare(registry: FlowRegistry, token_secret: str | None, request: MessageRequest) -> Prepared:
    """Check `request` and build Meta's body (issuing a token where one is needed)."""
    allowed = ALLOWED.get(request.type)
    if allowed is None:
        raise InvalidRequest("invalid body", details={"type": [f"one of {sorted(ALLOWED)}"]})
    given = [name for name in OPTIONAL if getattr(request, name) is not None]
    stray = [name for name in given if name not in allowed]
    if stray:
        reason = f"not used by messages of type {request.type!r}"
        raise InvalidRequest("invalid body", details={name: [reason] for name in stray})
    unsendable = [name for name in given if not _sendable(getattr(request, name))]
    if unsendable:
        reason = "holds a lone surrogate or a non-finite number (not valid JSON text)"
        raise InvalidRequest("invalid body", details={name: [reason] for name in unsendable})
    if request.type == TEXT:
        return _text(request)
    if request.type == FLOW:
        return _flow(registry, token_secret, request)
    return _template(registry, token_secret, request)


def _sendable(value: Any) -> bool:
    """True when `value` encodes as standard UTF-8 JSON (what Meta and PostgreSQL accept).

    Refused rather than repaired: this is text the business is about to send in its name.
    """
    if isinstance(value, str):
        return value.isascii() or not _SURROGATE.search(value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_sendable(k) and _sendable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_sendable(v) for v in value)
    if isinstance(value, TemplateSpec):
        return all(_sendable(v) for v in (value.name, value.language, value.components))
    return True


def _require(request: MessageRequest, *names: str) -> None:
    missing = [name for name in names if getattr(request, name) in (None, "")]
    if missing:
        reason = f"required for messages of type {request.type!r}"
        raise InvalidRequest("invalid body", details={name: [reason] for name in missing})


def _text(request: MessageRequest) -> Prepared:
    _require(request, "text")
    assert request.text is not None
    body = text_body(request.wa_id, request.text, bool(request.preview_url))
    return Prepared(TEXT, request.wa_id, body)


def _servable(registry: FlowRegistry, name: str) -> FlowDefinition:
    definition = registry.servable(name)
    if definition is None:
        raise InvalidRequest("unknown flow", details={"flow": [f"no servable flow named {name!r}"]})
    return definition


def _token(token_secret: str | None, request: MessageRequest, flow: str) -> str:
    """The caller's token as given, else a new one bound to `flow` and the recipient."""
    if request.flow_token is not None:
        if not 0 < len(request.flow_token) <= MAX_TOKEN_LENGTH:
            raise InvalidRequest(
                "invalid body", details={"flow_token": [f"1 to {MAX_TOKEN_LENGTH} characters"]}
            )
        if request.ttl_seconds is not None:
            raise InvalidRequest(
                "invalid body",
                details={"ttl_seconds": ["only used when Flowgate issues the token"]},
            )
        return request.flow_token
    if not token_secret:
        raise SendingNotConfigured("FLOWGATE_TOKEN_SECRET is not set: no flow token can be issued.")
    ttl = DEFAULT_TTL_SECONDS if request.ttl_seconds is None else request.ttl_seconds
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise InvalidRequest(
            "invalid body", details={"ttl_seconds": [f"between 1 and {MAX_TTL_SECONDS}"]}
        )
    return issue_token(token_secret, flow=flow, wa_id=request.wa_id, ttl_seconds=ttl).flow_token


def _flow(registry: FlowRegistry, token_secret: str | None, request: MessageRequest) -> Prepared:
    _require(request, "flow", "body", "cta")
    assert request.flow is not None and request.body is not None and request.cta is not None
    if (request.meta_flow_id is None) == (request.meta_flow_name is None):
        message = (
            "exactly one of meta_flow_id and meta_flow_name (Meta's Flow), unless the flow was "
            "pushed with `flowgate flows push`"
        )
        raise InvalidRequest(
            "invalid body", details={"meta_flow_id": [message], "meta_flow_name": [message]}
        )
    meta_flow = (
        ("flow_id", request.meta_flow_id)
        if request.meta_flow_id is not None
        else ("flow_name", str(request.meta_flow_name))
    )
    definition = _servable(registry, request.flow)
    model = definition.model
    action = request.flow_action or (DATA_EXCHANGE if definition.endpoint_powered else NAVIGATE)
    screen, data = None, None
    if action == DATA_EXCHANGE:
        problems = {}
        if not definition.endpoint_powered:
            problems["flow_action"] = ["data_exchange needs a flow with a data endpoint"]
        for name in ("screen", "data"):
            if getattr(request, name) is not None:
                problems[name] = ["only used with flow_action navigate"]
        if problems:
            raise InvalidRequest("invalid body", details=problems)
    else:
        screen = request.screen or model.entry_screen
        data = _screen_data(model, screen, request.data or {})
    token = _token(token_secret, request, request.flow)
    body = flow_body(
        request.wa_id,
        flow_token=token,
        meta_flow=meta_flow,
        cta=request.cta,
        body=request.body,
        flow_action=action,
        screen=screen,
        data=data,
        mode=request.mode or "published",
        header=request.header,
        footer=request.footer,
    )
    return Prepared(FLOW, request.wa_id, body, request.flow, token)


def _screen_data(model: Any, screen_id: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """`data` checked against the screen's declared data model (`__example__` removed).

    Every declared property must be given and fit its schema; undeclared keys are refused.
    The `__example__` values are previews for Meta's builder, never sent to a real user.
    """
    screen = model.screen(screen_id)
    if screen is None:
        raise InvalidRequest(
            "invalid body", details={"screen": [f"the flow has no screen {screen_id!r}"]}
        )
    problems: dict[str, list[str]] = {}
    for key in sorted(set(data) - set(screen.data_model)):
        problems[f"data.{key}"] = [f"screen {screen.id} declares no data {key!r}"]
    for key in sorted(set(screen.data_model) - set(data)):
        problems[f"data.{key}"] = [f"required by screen {screen.id}"]
    for key, value in data.items():
        if key in screen.data_model and not screen.accepts(key, value):
            problems[f"data.{key}"] = [f"does not fit the type screen {screen.id} declares"]
    if problems:
        raise InvalidRequest("the data does not fit the flow's screen", details=problems)
    return data


def _template(
    registry: FlowRegistry, token_secret: str | None, request: MessageRequest
) -> Prepared:
    _require(request, "template")
    spec = request.template
    assert spec is not None
    if request.flow is None:
        unused = [
            n for n in ("flow_token", "data", "ttl_seconds") if getattr(request, n) is not None
        ]
        if unused:
            reason = "only used with `flow` (the template's Flow button)"
            raise InvalidRequest("invalid body", details={name: [reason] for name in unused})
        return Prepared(TEMPLATE, request.wa_id, template_body(request.wa_id, spec))
    _servable(registry, request.flow)
    index = spec.flow_button_index
    if any(is_flow_button(c, index) for c in spec.components):
        message = f"the Flow button at index {index} is filled by Flowgate (from `flow`)"
        raise InvalidRequest("invalid body", details={"template.components": [message]})
    token = _token(token_secret, request, request.flow)
    button = flow_button(index, token, request.data)
    body = template_body(request.wa_id, spec, button)
    return Prepared(TEMPLATE, request.wa_id, body, request.flow, token)
