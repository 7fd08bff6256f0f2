"""The OpenAPI 3.1 document, generated from the declared operations and their schemas."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api.operations import Operation
from app.api.schemas.common import ErrorSchema

PREFIX = "/api/v1"
_ERROR_TEXT = {
    400: "Invalid request",
    401: "Missing or wrong bearer token",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Not processable",
    500: "Internal error (the request may have had effects; see the error code)",
    502: "The WhatsApp Cloud API refused or did not answer",
    503: "Not configured or not available",
}


def build_openapi(operations: list[Operation], version: str) -> dict[str, Any]:
    """Every operation with absolute paths (`/api/v1/...`), bearer auth, the error shape."""
    spec = APISpec(
        title="Flowgate admin API",
        version=version,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Flows, submissions (JSON and CSV), webhook endpoints, "
            "deliveries, contacts' 24-hour window and flow tokens."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path = PREFIX + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return _plain_parameters(spec.to_dict())


def _plain_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """Query and path parameters cannot carry JSON null: a marshmallow field with
    `load_default=None` means "optional", so drop the `null` type and the null default."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if isinstance(schema.get("type"), list):
                    kinds = [kind for kind in schema["type"] if kind != "null"]
                    schema["type"] = kinds[0] if len(kinds) == 1 else kinds
                if "default" in schema and schema["default"] is None:
                    del schema["default"]
    return document


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", op.rule)
    ]
    if op.query is not None:
        params.append({"in": "query", "schema": op.query})
    success: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        success["content"] = {op.content_type: {"schema": op.response}}
    elif op.content_type != "application/json":
        success["content"] = {op.content_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): success}
    for status, schema, description in op.also:
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    # 400 always: the shell itself refuses NUL characters and malformed bodies on every route.
    statuses = sorted({*op.errors, 400, *((401,) if op.auth else ())})
    for status in statuses:
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": "Error"}},
        }
    operation: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": op.method.lower()
        + "_"
        + (re.sub(r"\W+", "_", op.rule).strip("_") or "root"),
        "responses": responses,
        "security": [{"bearer": []}] if op.auth else [],
    }
    if params:
        operation["parameters"] = params
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    return operation
