"""Submissions in the admin API: the item shape, the filters, the CSV export's query."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from app.api.schemas.common import PageQuerySchema, QuerySchema, UtcDateTime
from app.export.query import SubmissionFilter
from app.models.enums import LeadSource, SubmissionStatus


class SubmissionSchema(Schema):
    """`{"id", "flow", "wa_id", "contact_name", "flow_token", "source", "status", "fields",
    "errors", "submitted_at"}` (design.md)."""

    id = fields.String(required=True)
    flow = fields.String(required=True)
    wa_id = fields.String(required=True, allow_none=True)
    contact_name = fields.String(required=True, allow_none=True)
    flow_token = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, validate=validate.OneOf([s.value for s in LeadSource]))
    status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in SubmissionStatus])
    )
    # `fields` and `errors` would shadow Schema attributes, hence attribute + data_key.
    field_values = fields.Dict(
        keys=fields.String(), required=True, attribute="fields", data_key="fields"
    )
    error_list = fields.List(fields.Raw(), required=True, attribute="errors", data_key="errors")
    submitted_at = UtcDateTime(required=True)


class SubmissionFilterSchema(QuerySchema):
    """The filters every submission read shares; loads into a `SubmissionFilter`."""

    flow = fields.String(load_default=None, metadata={"description": "Only this flow."})
    wa_id = fields.String(load_default=None, metadata={"description": "Only this WhatsApp ID."})
    status = fields.String(
        load_default="all",
        validate=validate.OneOf(["valid", "invalid", "all"]),
        metadata={"description": "valid, invalid or all (default)."},
    )
    since = UtcDateTime(
        load_default=None, metadata={"description": "submitted_at at or after (ISO 8601)."}
    )
    until = UtcDateTime(
        load_default=None, metadata={"description": "submitted_at before (ISO 8601)."}
    )

    @post_load
    def _filter(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        keys = ("flow", "wa_id", "status", "since", "until")
        rest = {k: v for k, v in data.items() if k not in keys}
        return {"filters": SubmissionFilter(**{k: data[k] for k in keys}), **rest}


class SubmissionListQuerySchema(SubmissionFilterSchema, PageQuerySchema):
    """Filters plus `limit` and `cursor`; newest first."""


class SubmissionCsvQuerySchema(SubmissionFilterSchema):
    """Filters plus `excel` (adds the UTF-8 byte order mark Excel needs)."""

    excel = fields.Boolean(
        load_default=False, metadata={"description": "1/true: start with a UTF-8 BOM."}
    )
