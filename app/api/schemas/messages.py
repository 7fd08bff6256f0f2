"""Messages in the admin API: the send request and the sent message (docs/messaging.md).

One flat request for the three kinds, told apart by `type`; which fields each kind takes is
checked by the core (`app.messaging.sending`), so a field of another kind is a 400 naming it.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import UtcDateTime
from app.api.schemas.contacts import CLOSED_REASONS
from app.crypto.tokens import MAX_TOKEN_LENGTH, MAX_TTL_SECONDS
from app.leads.contacts import ADDRESSABLE_WA_ID, ADDRESSABLE_WA_ID_HELP
from app.messaging.payloads import DATA_EXCHANGE, KINDS, NAVIGATE

WA_ID = validate.Regexp(ADDRESSABLE_WA_ID, error=ADDRESSABLE_WA_ID_HELP)


class TemplateRequestSchema(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=512),
        metadata={"description": "Name of the approved template."},
    )
    language = fields.String(
        required=True,
        validate=validate.Length(min=1, max=15),
        metadata={"description": "Language code of the template, e.g. `en_US`."},
    )
    components = fields.List(
        fields.Dict(),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Header/body/button parameters, sent as given (protocol §10.3)."},
    )
    flow_button_index = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=9),
        metadata={"description": "Index of the template's Flow button filled from `flow`."},
    )


class FallbackTemplateSchema(Schema):
    """An approved template sent instead of a free-form message when the window is closed."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=512))
    language = fields.String(required=True, validate=validate.Length(min=1, max=15))
    components = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=20))


class MessageRequestSchema(Schema):
    """`type` text: `text`. flow: `flow`, `meta_flow_id` or `meta_flow_name`, `body`, `cta`.
    template: `template` (and `flow` to fill its Flow button with a flow token)."""

    wa_id = fields.String(
        required=True, validate=WA_ID, metadata={"description": "The recipient's WhatsApp id."}
    )
    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    text = fields.String(
        validate=validate.Length(min=1, max=4096), metadata={"description": "type text: the text."}
    )
    preview_url = fields.Boolean(metadata={"description": "type text: render a link preview."})
    flow = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Flowgate's flow (file stem) the message opens."},
    )
    meta_flow_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "type flow: Meta's id of the published Flow."},
    )
    meta_flow_name = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "type flow: Meta's name of the Flow (instead of the id)."},
    )
    body = fields.String(
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "type flow: the message text."},
    )
    cta = fields.String(
        validate=validate.Length(min=1, max=30),
        metadata={"description": "type flow: the button text (Meta advises at most 30)."},
    )
    header = fields.String(validate=validate.Length(min=1, max=60))
    footer = fields.String(validate=validate.Length(min=1, max=60))
    flow_token = fields.String(
        validate=validate.Length(min=1, max=MAX_TOKEN_LENGTH),
        metadata={"description": "Use this token instead of issuing a signed one."},
    )
    flow_action = fields.String(
        validate=validate.OneOf([NAVIGATE, DATA_EXCHANGE]),
        metadata={"description": "Default: data_exchange for endpoint flows, else navigate."},
    )
    screen = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "navigate: first screen (default: the entry screen)."},
    )
    data = fields.Dict(
        metadata={"description": "navigate: the screen's data; template: flow_action_data."}
    )
    mode = fields.String(validate=validate.OneOf(["published", "draft"]))
    ttl_seconds = fields.Integer(
        validate=validate.Range(min=1, max=MAX_TTL_SECONDS),
        metadata={"description": "Lifetime of the issued flow token (default 72 h)."},
    )
    template = fields.Nested(TemplateRequestSchema)
    fallback_template = fields.Nested(
        FallbackTemplateSchema,
        metadata={
            "description": "text/flow: sent instead when the window is closed "
            "(the answer says `sent_as: template`), docs/automations.md."
        },
    )
    send_at = UtcDateTime(
        metadata={
            "description": "Send later (ISO 8601): answered 202 with a pending message; the "
            "window is checked when it is sent. Cancel with DELETE /api/v1/messages/<id>."
        }
    )


class MessageWindowSchema(Schema):
    """The contact's window when the message was sent (sending never extends it)."""

    open = fields.Boolean(required=True)
    last_inbound_at = UtcDateTime(required=True, allow_none=True)
    expires_at = UtcDateTime(required=True, allow_none=True)
    closed_reason = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(CLOSED_REASONS)
    )


class MessageSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Meta's message id (wamid)."})
    wa_id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    flow = fields.String(required=True, allow_none=True)
    flow_token = fields.String(required=True, allow_none=True)
    sent_at = UtcDateTime(required=True)
    window = fields.Nested(MessageWindowSchema, required=True)
    sent_as = fields.String(
        required=True,
        validate=validate.OneOf(KINDS),
        metadata={"description": "The kind actually sent (`template` when the fallback went)."},
    )


class ScheduledMessageSchema(Schema):
    """A message sent by the worker: scheduled through the API or sent by a rule."""

    id = fields.String(required=True, metadata={"description": "Flowgate's id of the send."})
    wa_id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    origin = fields.String(required=True, validate=validate.OneOf(["api", "rule"]))
    rule = fields.String(required=True, allow_none=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(
            ["pending", "sending", "sent", "skipped", "failed", "cancelled", "unconfirmed"]
        ),
    )
    send_at = UtcDateTime(required=True)
    sent_as = fields.String(required=True, allow_none=True)
    wamid = fields.String(required=True, allow_none=True)
    meta_status = fields.String(
        required=True, allow_none=True, metadata={"description": "Meta's latest status."}
    )
    error = fields.String(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    sent_at = UtcDateTime(required=True, allow_none=True)
