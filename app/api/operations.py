"""Declared admin API operations: the single source for routing, validation and OpenAPI.

`app.web.api.route` records one `Operation` per view; `app.api.openapi` turns the list into
the OpenAPI document, so the document cannot drift from what the views accept and return.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema


@dataclass(frozen=True)
class Operation:
    """One method on one path, with the schemas that define its input and output."""

    method: str
    rule: str  # Flask rule under /api/v1, e.g. "/submissions/<submission_id>"
    summary: str
    tag: str
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    content_type: str = "application/json"
    errors: tuple[int, ...] = (400, 401, 404)
    auth: bool = True
    # Other success answers: (status, schema, description), e.g. 202 for a scheduled message.
    also: tuple[tuple[int, type[Schema], str], ...] = ()


OPERATIONS: list[Operation] = []
