"""Contacts in the admin API: the 24-hour window of one wa_id (docs/contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import UtcDateTime

CLOSED_REASONS = ["no_inbound_message", "expired", "re_engagement_error"]


class ContactWindowSchema(Schema):
    """`{"wa_id", "window_open", "last_inbound_at", "expires_at", "closed_reason"}`.

    Times are ISO 8601 UTC with `Z`; `expires_at` is last_inbound_at + 24 h whether the window
    is open or not; a contact never heard from has nulls and `no_inbound_message`.
    """

    wa_id = fields.String(required=True)
    window_open = fields.Boolean(required=True)
    last_inbound_at = UtcDateTime(required=True, allow_none=True)
    expires_at = UtcDateTime(required=True, allow_none=True)
    closed_reason = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(CLOSED_REASONS)
    )
