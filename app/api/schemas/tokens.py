"""Flow tokens in the admin API: the issue request and the issued token."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.crypto.tokens import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS
from app.leads.contacts import ADDRESSABLE_WA_ID, ADDRESSABLE_WA_ID_HELP


class FlowTokenRequestSchema(Schema):
    flow = fields.String(required=True, metadata={"description": "Name of the flow (file stem)."})
    wa_id = fields.String(
        required=True,
        validate=validate.Regexp(ADDRESSABLE_WA_ID, error=ADDRESSABLE_WA_ID_HELP),
        metadata={"description": "The contact's WhatsApp id the token is bound to."},
    )
    ttl_seconds = fields.Integer(
        load_default=DEFAULT_TTL_SECONDS,
        validate=validate.Range(min=1, max=MAX_TTL_SECONDS),
        metadata={"description": "Lifetime; default 259200 (72 h, Meta advises 2-3 days)."},
    )


class FlowTokenSchema(Schema):
    flow_token = fields.String(
        required=True, metadata={"description": "Opaque; put it on the Flow message."}
    )
    flow = fields.String(required=True)
    wa_id = fields.String(required=True)
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601 UTC."})
