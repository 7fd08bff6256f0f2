"""Typed errors of the core. The Flask shell maps them to HTTP; the core never imports Flask."""

from __future__ import annotations

from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or unusable: raised at startup so nothing runs half-configured."""


class FlowgateError(Exception):
    """An error a client caused, with a stable machine-readable `code` and an HTTP status."""

    code = "bad_request"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details


class InvalidRequest(FlowgateError):
    """The request's parameters or body failed validation (details name the fields)."""

    code = "invalid_request"
    status = 400


class Unauthenticated(FlowgateError):
    """No valid credentials; the shell adds `WWW-Authenticate: Bearer`."""

    code = "unauthorized"
    status = 401


class NotFound(FlowgateError):
    code = "not_found"
    status = 404


class Conflict(FlowgateError):
    code = "conflict"
    status = 409
