"""A flow's health in the admin API (docs/operations.md)."""

from __future__ import annotations

from marshmallow import Schema, fields


class AlertSchema(Schema):
    """One of Meta's `flows` alerts with its state (docs/protocol.md §9.2)."""

    class Meta:
        unknown = "include"

    event = fields.String(required=True)
    meta_flow_id = fields.String(required=True, allow_none=True)
    matched = fields.Boolean(
        required=True,
        metadata={"description": "Its Flow id is this flow's (FLOWGATE_META_FLOW_IDS)."},
    )
    active = fields.Boolean(required=True)
    activated_at = fields.String(required=True, allow_none=True)
    deactivated_at = fields.String(required=True, allow_none=True)
    message = fields.String(required=True, allow_none=True)
    threshold = fields.Raw()
    alert_state = fields.String()
    old_status = fields.String()
    new_status = fields.String()
    error_rate = fields.Raw()
    p50_latency = fields.Raw()
    p90_latency = fields.Raw()
    availability = fields.Raw()
    requests_count = fields.Raw()
    errors = fields.Raw()


class ReasonSchema(Schema):
    rule = fields.String(required=True)
    level = fields.String(required=True, metadata={"enum": ["warning", "critical"]})
    value = fields.Raw(required=True, allow_none=True)
    threshold = fields.Raw(required=True, allow_none=True)


class FlowHealthSchema(Schema):
    """The endpoint's own figures over Meta's windows, judged by Meta's thresholds."""

    flow = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["ok", "warning", "critical"]})
    latency_p90_ms = fields.Float(required=True, allow_none=True)
    latency_p50_ms = fields.Float(required=True, allow_none=True)
    error_rate = fields.Float(required=True, allow_none=True)
    availability = fields.Float(required=True, allow_none=True)
    requests = fields.Integer(required=True)
    errors = fields.Integer(required=True)
    handler_errors = fields.Integer(required=True)
    window_minutes = fields.Integer(required=True)
    availability_window_minutes = fields.Integer(required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    alerts = fields.List(fields.Nested(AlertSchema), required=True)
    cleared_alerts = fields.List(fields.Nested(AlertSchema), required=True)
    checked_at = fields.String(required=True)
