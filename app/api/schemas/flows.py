"""Flows in the admin API: a flow's summary and its validation report."""

from __future__ import annotations

from marshmallow import Schema, fields


class FindingSchema(Schema):
    """One validator finding; `error`..`pointers` mirror Meta's Flows API error shape."""

    code = fields.String(required=True)
    level = fields.String(required=True, metadata={"enum": ["ERROR", "WARNING"]})
    message = fields.String(required=True)
    pointer = fields.String(required=True, metadata={"description": "RFC 6901 JSON pointer."})
    line = fields.Integer(required=True, allow_none=True)
    column = fields.Integer(required=True, allow_none=True)
    file = fields.String(required=True, allow_none=True)
    error = fields.String(required=True)
    error_type = fields.String(required=True)
    line_start = fields.Integer(required=True, allow_none=True)
    line_end = fields.Integer(required=True, allow_none=True)
    column_start = fields.Integer(required=True, allow_none=True)
    column_end = fields.Integer(required=True, allow_none=True)
    pointers = fields.List(fields.String(), required=True)


class FlowSummarySchema(Schema):
    """A flow as listed: whether it is served, and how many findings it has."""

    name = fields.String(required=True)
    valid = fields.Boolean(
        required=True, metadata={"description": "No error findings: the flow is served."}
    )
    endpoint_powered = fields.Boolean(required=True)
    version = fields.String(required=True, allow_none=True)
    data_api_version = fields.String(required=True, allow_none=True)
    screens = fields.List(fields.String(allow_none=True), required=True)
    has_schema = fields.Boolean(required=True)
    schema_source = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "enum": ["file", "derived", None],
            "description": "What judges submissions: schemas/<name>.json (file), else the "
            "schema derived from the Flow JSON (derived); null when there is none.",
        },
    )
    has_handlers = fields.Boolean(required=True)
    errors = fields.Integer(required=True)
    warnings = fields.Integer(required=True)


class FlowSchema(FlowSummarySchema):
    """One flow with its validation report and its submission schema."""

    findings = fields.List(fields.Nested(FindingSchema), required=True)
    submission_schema = fields.Dict(required=True, allow_none=True)
