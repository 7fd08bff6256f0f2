"""The admin API shell under /api/v1: bearer auth, declared routes, the OpenAPI document.

Each area adds its views in its own module here (`flows.py`, `submissions.py`, ...), declared
with `route(...)`: the marshmallow schemas given there validate the query and body, dump
the response and describe the operation in /api/v1/openapi.json.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from marshmallow import Schema, ValidationError

from app.api.openapi import PREFIX, build_openapi
from app.api.operations import OPERATIONS, Operation
from app.errors import InvalidRequest, Unauthenticated
from app.web import runtime

bp = Blueprint("api", __name__, url_prefix=PREFIX)

# Modules (under app/web/api/) whose views are part of the API. Each area appends its own.
AREAS: list[str] = ["submissions", "flows", "contacts", "tokens", "webhooks", "messages"]
AREAS.append("links")  # wa.me links and QR codes (app/automations/links.py)

View = Callable[..., Any]


def route(
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    query: type[Schema] | None = None,
    body: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (400, 404),
    content_type: str = "application/json",
    also: tuple[tuple[int, type[Schema], str], ...] = (),
) -> Callable[[View], View]:
    """Declare an API view: validate `query`/`body`, dump `response`, document all three.

    The view receives the loaded `query` and/or `body` as keyword arguments next to its path
    parameters and returns either a Flask `Response` or data for `response` to dump.
    """

    def decorator(view: View) -> View:
        op = Operation(
            method=method,
            rule=rule,
            summary=summary,
            tag=tag,
            query=query,
            body=body,
            response=response,
            status=status,
            errors=errors,
            content_type=content_type,
            also=also,
        )
        OPERATIONS.append(op)

        @wraps(view)
        def handle(**path: Any) -> Any:
            kwargs = dict(path)
            _refuse_nul(path)
            _refuse_nul(request.args.to_dict())
            if query is not None:
                kwargs["query"] = _load(query(), request.args.to_dict(), "query")
            if body is not None:
                payload = request.get_json(silent=True)
                if not isinstance(payload, dict):
                    raise InvalidRequest("the request body must be a JSON object")
                _refuse_nul(payload)
                kwargs["body"] = _load(body(), payload, "body")
            result = view(**kwargs)
            if isinstance(result, Response) or response is None:
                return result
            out = jsonify(response().dump(result))
            out.status_code = status
            return out

        bp.add_url_rule(rule, endpoint=f"{tag}_{view.__name__}", view_func=handle, methods=[method])
        return view

    return decorator


def _refuse_nul(data: dict[str, Any]) -> None:
    """A NUL character anywhere in a parameter or body is a 400 naming it.

    Stored text never holds NUL (intake strips it; PostgreSQL cannot store or compare it), so
    such input can match nothing and would only turn into a database error, i.e. a 500.
    """
    bad = sorted(
        str(name) for name, value in data.items() if "\x00" in str(name) or _has_nul(value)
    )
    if bad:
        message = "NUL characters are not allowed."
        raise InvalidRequest(message, details={name: [message] for name in bad})


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in str(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _load(schema: Schema, data: dict[str, Any], where: str) -> Any:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidRequest(f"invalid {where}", details=exc.messages) from None


def _authenticate() -> None:
    """Every /api/v1 path but the OpenAPI document needs a configured bearer token.

    Runs for unknown /api/v1 paths too, so the API does not reveal its routes to strangers.
    No tokens configured means nobody gets in (fail closed).
    """
    if not request.path.startswith(PREFIX + "/") or request.path == PREFIX + "/openapi.json":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    presented = token.strip().encode()
    ok = False
    for configured in runtime().config.api_tokens:
        # Compare with every token (no early exit) so timing says nothing about which matched.
        ok |= hmac.compare_digest(presented, configured.encode())
    if scheme.lower() != "bearer" or not presented or not ok:
        raise Unauthenticated("A valid bearer token is required (Authorization: Bearer <token>).")


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API (no token needed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        api_version = version("flowgate")
    except PackageNotFoundError:
        api_version = "0"
    return jsonify(build_openapi(OPERATIONS, api_version))


def register(app: Flask) -> None:
    """Import every area's views (they declare themselves on `bp`) and mount the blueprint."""
    for area in AREAS:
        import_module(f"app.web.api.{area}")
    if "api" not in app.blueprints:
        app.before_request(_authenticate)
        app.register_blueprint(bp)
