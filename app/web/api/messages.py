"""`POST /api/v1/messages`: send a text, Flow or template message (docs/messaging.md)."""

from __future__ import annotations

from typing import Any

from app.api.schemas.messages import MessageRequestSchema, MessageSchema
from app.messaging.graph import GraphClient
from app.messaging.payloads import MessageRequest, TemplateSpec
from app.messaging.sending import send_message
from app.web import db_session, runtime
from app.web.api import route


@route(
    "/messages",
    "POST",
    summary="Send a message through the Cloud API (text and Flow only inside the 24-hour window)",
    tag="messages",
    body=MessageRequestSchema,
    response=MessageSchema,
    status=201,
    errors=(400, 409, 502, 503),
)
def send(body: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    template = body.pop("template", None)
    if template is not None:
        body["template"] = TemplateSpec(
            name=template["name"],
            language=template["language"],
            components=tuple(template["components"]),
            flow_button_index=template["flow_button_index"],
        )
    sent = send_message(
        db_session(),
        rt.registry,
        rt.config.token_secret,
        GraphClient.from_config(rt.config),
        MessageRequest(**body),
    )
    state = sent.window
    return {
        "id": sent.wamid,
        "wa_id": sent.wa_id,
        "type": sent.kind,
        "flow": sent.flow,
        "flow_token": sent.flow_token,
        "sent_at": sent.sent_at,
        "window": {
            "open": state.open,
            "last_inbound_at": state.last_inbound_at,
            "expires_at": state.expires_at,
            "closed_reason": state.closed_reason,
        },
    }
