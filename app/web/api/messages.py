"""`POST /api/v1/messages`: send a text, Flow or template message (docs/messaging.md), now or
at `send_at`, with a `fallback_template` for a closed window; `GET`/`DELETE
/api/v1/messages/<id>` for scheduled and automated ones (docs/automations.md)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.api.schemas.messages import MessageRequestSchema, MessageSchema, ScheduledMessageSchema
from app.automations.scheduling import (
    cancel_scheduled,
    check_fallback,
    fallback_request,
    find,
    schedule,
    view,
)
from app.automations.sends import pause
from app.clock import now
from app.messaging.graph import GraphClient
from app.messaging.payloads import MessageRequest, TemplateSpec
from app.messaging.sending import WindowClosed, send_message
from app.web import db_session, runtime
from app.web.api import route

log = logging.getLogger("flowgate.messaging")


def _spec(template: dict[str, Any] | None) -> TemplateSpec | None:
    if template is None:
        return None
    return TemplateSpec(
        name=template["name"],
        language=template["language"],
        components=tuple(template.get("components") or ()),
        flow_button_index=template.get("flow_button_index", 0),
    )


@route(
    "/messages",
    "POST",
    summary="Send a message through the Cloud API (text and Flow only inside the 24-hour "
    "window, else `fallback_template`); with `send_at`: 202 and sent later by the worker",
    tag="messages",
    body=MessageRequestSchema,
    response=MessageSchema,
    status=201,
    errors=(400, 409, 502, 503),
    also=((202, ScheduledMessageSchema, "Scheduled (`send_at`): sent later by the worker"),),
)
def send(body: dict[str, Any]) -> Any:
    rt = runtime()
    send_at = body.pop("send_at", None)
    fallback = _spec(body.pop("fallback_template", None))
    template = body.pop("template", None)
    if template is not None:
        body["template"] = _spec(template)
    request = MessageRequest(**body)
    client = GraphClient.from_config(rt.config)
    session = db_session()
    if send_at is not None:
        row = schedule(
            session,
            rt.registry,
            rt.config.token_secret,
            client is not None,
            request,
            fallback,
            send_at,
        )
        out = jsonify(ScheduledMessageSchema().dump(view(row)))
        out.status_code = 202
        return out
    check_fallback(request, fallback)
    args = (session, rt.registry, rt.config.token_secret, client)
    try:
        sent = send_message(*args, request)
    except WindowClosed:
        if fallback is None:
            raise
        sent = send_message(*args, fallback_request(request, fallback))
    _pause(sent.wa_id, rt.config.human_pause_seconds)
    state = sent.window
    return {
        "id": sent.wamid,
        "wa_id": sent.wa_id,
        "type": request.type,
        "sent_as": sent.kind,
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


def _pause(wa_id: str, seconds: float) -> None:
    """A person wrote: hold message.received rules for this contact (human takeover)."""
    session = db_session()
    try:
        pause(session, wa_id, now() + timedelta(seconds=seconds))
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not record the human pause for %s", wa_id)


@route(
    "/messages/<message_id>",
    summary="A scheduled or automated message (by id), or one sent at once (by wamid)",
    tag="messages",
    response=ScheduledMessageSchema,
    errors=(404,),
)
def get_message(message_id: str) -> dict[str, Any]:
    return find(db_session(), message_id)


@route(
    "/messages/<message_id>",
    "DELETE",
    summary="Cancel a scheduled message while it is pending (409 otherwise)",
    tag="messages",
    response=ScheduledMessageSchema,
    errors=(404, 409),
)
def cancel_message(message_id: str) -> dict[str, Any] | Response:
    return view(cancel_scheduled(db_session(), message_id))
