"""Submissions in the admin API: the item shape, the filters, the CSV export's query."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, missing, post_load, validate

from app.api.schemas.common import PageQuerySchema, QuerySchema, UtcDateTime
from app.export.query import SubmissionFilter
from app.models.enums import LeadSource, SubmissionStatus


class SubmissionSchema(Schema):
    """`{"id", "flow", "wa_id", "contact_name", "flow_token", "source", "status", "fields",
    "errors", "submitted_at"}` (docs/contract.md)."""

    id = fields.String(required=True)
    flow = fields.String(required=True, allow_none=True)  # null: unrouted (docs/leads.md)
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
    # The lead's uploads (docs/media.md): [{id, field, file_name, mime_type, size, sha256,
    # status, error, url}], present when it has files, as in flow.submitted; views fill
    # `media_entries` (app/media/records.py `annotate`).
    media = fields.Function(
        lambda s: getattr(s, "media_entries", None) or missing,
        metadata={"description": "Uploaded files; url is a signed, expiring download link."},
    )


class SubmissionFilterSchema(QuerySchema):
    """The filters every submission read shares; loads into a `SubmissionFilter`."""

    flow = fields.String(load_default=None, metadata={"description": "Only this flow."})
    wa_id = fields.String(load_default=None, metadata={"description": "Only this WhatsApp ID."})
    status = fields.String(
        load_default="all",
        validate=validate.OneOf([*SubmissionStatus, "all"]),
        metadata={"description": "valid, invalid, unrouted or all (default)."},
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
    raw = fields.Boolean(
        load_default=False,
        metadata={
            "description": "1/true: no leading ' on cells a spreadsheet would evaluate (for "
            "machine imports such as CRMs). UNSAFE to open in a spreadsheet."
        },
    )
