"""Schemas every area shares: the error shape, list envelopes, pagination parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from app.clock import isoformat


class UtcDateTime(fields.DateTime):
    """ISO 8601 in and out; always UTC with `Z` on the way out (docs/contract.md).

    Input is read with `datetime.fromisoformat` (date-only, `Z`, offsets, fractions); a value
    without an offset is taken as UTC (tolerant: documented in docs/api.md). Anything else,
    including dates out of range after conversion, is a validation error naming the field.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return isoformat(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            parsed = datetime.fromisoformat(value.strip().upper())
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    """`{"error": {"code", "message", "details"}}`, the one error shape (docs/contract.md)."""

    error = fields.Nested(ErrorBodySchema, required=True)


class QuerySchema(Schema):
    """Base of query-string schemas: an unknown parameter is a 400 naming it.

    Refused rather than ignored so a typo (`?stauts=valid`) cannot silently widen a list or
    an export to every row (the OpenAPI document lists every accepted parameter).
    """

    class Meta:
        unknown = RAISE


class PageQuerySchema(QuerySchema):
    """`limit` (default 50, at most 500) and the opaque `cursor` of a list."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)


@cache
def list_of(item: type[Schema]) -> type[Schema]:
    """The list envelope `{"items": [...], "next_cursor": str | null}` around `item`."""
    name = item.__name__.removesuffix("Schema") + "ListSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(required=True, allow_none=True),
        },
        name=name,
    )
