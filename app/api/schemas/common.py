"""Schemas every area shares: the error shape, list envelopes, pagination parameters."""

from __future__ import annotations

from functools import cache

from marshmallow import EXCLUDE, Schema, fields, validate


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    """`{"error": {"code", "message", "details"}}`, the one error shape (design.md)."""

    error = fields.Nested(ErrorBodySchema, required=True)


class QuerySchema(Schema):
    """Base of query-string schemas: unknown parameters are ignored, not refused."""

    class Meta:
        unknown = EXCLUDE


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
