"""The admin API shell under /api/v1: bearer auth, declared routes, the OpenAPI document.

Each area adds its views in its own module here (`flows.py`, `submissions.py`, ...), declared
with `route(...)`: the marshmallow schemas given there validate the query and body, dump
the response and describe the operation in /api/v1/openapi.json.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from marshmallow import Schema, ValidationError

from app.api.openapi import PREFIX, build_openapi
from app.api.operations import OPERATIONS, Operation
from app.errors import InvalidRequest, Unauthenticated
from app.web import runtime
from app.web.connection import read_capped_body

bp = Blueprint("api", __name__, url_prefix=PREFIX)
log = logging.getLogger("flowgate.api")

API_CLOSED = (
    "The admin API is closed: no tokens are configured. Open it by setting FLOWGATE_API_TOKENS "
    "(comma-separated bearer tokens, e.g. from python -c 'import secrets; "
    "print(secrets.token_urlsafe(32))') and restarting; in development `flowgate init` "
    "writes one into .env."
)

# Modules (under app/web/api/) whose views are part of the API. Each area appends its own.

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
                read_capped_body()
                try:
                    payload = request.get_json(silent=True)
                except RecursionError:  # nesting deeper than the parser's stack
                    raise InvalidRequest("the request body is nested too deeply") from None
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
    """A NUL character or an unpaired surrogate anywhere in a parameter or body is a 400
    naming it.

    Stored text never holds NUL (intake strips it; PostgreSQL cannot store or compare it), and
    a lone surrogate (JSON can spell `\\ud800`) is not text UTF-8 can encode: such input can
    match nothing and would only turn into a database or encoding error, i.e. a 500.
    """
    try:
        bad = {str(name): _problem(name, value) for name, value in data.items()}
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None
    bad = {name: problem for name, problem in bad.items() if problem}
    if bad:
        first = next(iter(bad.values()))
        raise InvalidRequest(first, details={name: [bad[name]] for name in sorted(bad)})


_NUL = "NUL characters are not allowed."
_SURROGATE = "Unpaired surrogate characters (U+D800 to U+DFFF) are not allowed."


def _problem(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str):
            if "\x00" in value:
                return _NUL
            if not value.isascii() and any("\ud800" <= c <= "\udfff" for c in value):
                return _SURROGATE
        elif isinstance(value, dict):
            found = next((p for k, v in value.items() if (p := _problem(k, v))), None)
            if found:
                return found
        elif isinstance(value, list):
            found = next((p for item in value if (p := _problem(item))), None)
            if found:
                return found
    return None


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
    if not runtime().config.api_tokens:
        raise Unauthenticated(API_CLOSED, details={"configure": "FLOWGATE_API_TOKENS"})
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
    # The views declare themselves on `bp` when imported (each imports `route` from here).
    from app.web.api import (  # noqa: F401
        contacts,
        flows,
        health,
        links,
        media,
        messages,
        submissions,
        tokens,
        webhooks,
    )

    if not runtime(app).config.api_tokens:
        log.warning("admin API closed: FLOWGATE_API_TOKENS is not set (every /api/v1 call is 401)")
    if "api" not in app.blueprints:
        app.before_request(_authenticate)
        app.register_blueprint(bp)
