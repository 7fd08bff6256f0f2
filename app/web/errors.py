"""JSON errors everywhere: no HTML error page, no traceback ever reaches a client."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.errors import FlowgateError

log = logging.getLogger("flowgate.web")


def error_response(status: int, code: str, message: str, details: object = None) -> Response:
    """The one error shape: `{"error": {"code", "message", "details"}}`."""
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    response = error_response(exc.code or 500, code, exc.description or exc.name or "error")
    original = exc.get_response().headers
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        if original.get(header):
            response.headers[header] = original[header]
    return response


def _flowgate_error(exc: FlowgateError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="flowgate"'
    return response


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error")  # the traceback goes to the log, never to the client
    return error_response(500, "internal_error", "Internal server error.")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(FlowgateError, _flowgate_error)
    app.register_error_handler(Exception, _unexpected)
