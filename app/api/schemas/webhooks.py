"""Webhook endpoints and deliveries in the admin API (shapes fixed by docs/contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuerySchema, UtcDateTime
from app.models.enums import DeliveryStatus, EventType
from app.models.outbox import EVENT_TYPES

_EVENTS = validate.OneOf([*EVENT_TYPES, "*"])


class EndpointCreateSchema(Schema):
    """`{"url", "events": ["flow.submitted"], "description"?}`."""

    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    events = fields.List(
        fields.String(validate=_EVENTS),
        load_default=lambda: [EventType.FLOW_SUBMITTED.value],
        validate=validate.Length(min=1),
        metadata={"description": "Event types to receive (`*` for all)."},
    )
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500)
    )


class EndpointCreatedSchema(Schema):
    """`{"id", "url", "events", "enabled", "secret"}`: the only time the secret is shown."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    secret = fields.String(required=True, metadata={"description": "`whsec_...`, shown once."})


class EndpointRotatedSchema(EndpointCreatedSchema):
    """The new secret, and until when the previous one keeps signing too."""

    previous_secret_expires_at = fields.String(required=True, allow_none=True)


class EndpointSchema(Schema):
    """An endpoint as listed: never its secret."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    description = fields.String(required=True, allow_none=True)
    disabled_reason = fields.String(required=True, allow_none=True)
    failing_since = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)


class AttemptSchema(Schema):
    """One logged HTTP attempt."""

    attempted_at = fields.String(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True)
    response_snippet = fields.String(required=True, allow_none=True)


class DeliverySchema(Schema):
    """docs/contract.md's delivery; `attempt_log` only when asked for (`include_attempts=true`)."""

    id = fields.String(required=True)
    event_id = fields.String(required=True)
    endpoint_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in DeliveryStatus])
    )
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.String(required=True, allow_none=True)
    last_status_code = fields.Integer(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptSchema))


class DeliveryListQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in DeliveryStatus])
    )
    include_attempts = fields.Boolean(
        load_default=False, metadata={"description": "Add each delivery's attempt log."}
    )


class RetryFailedSchema(Schema):
    """`{"since": "<ISO 8601>"}`: failed deliveries created at or after it."""

    since = UtcDateTime(required=True)


class RetriedSchema(Schema):
    retried = fields.Integer(required=True)
