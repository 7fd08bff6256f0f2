"""`POST /flows/<flow>/endpoint`: the Flask shell of the Flow data endpoint.

It answers 404 and 413 itself (they need no body, design.md's order puts them first), reads
the raw body with a bounded read, and hands it to `app.endpoint.service`. Replies are plain
text: ciphertext on 200/427, empty otherwise.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.endpoint.protocol import AnswerViolation
from app.endpoint.service import CONTENT_TYPE, EndpointService
from app.web import runtime

bp = Blueprint("endpoint", __name__)


def _service() -> EndpointService:
    service = current_app.extensions.get("flowgate.endpoint")
    if service is None:
        service = current_app.extensions["flowgate.endpoint"] = EndpointService(runtime())
    return service


def _empty(status: int) -> Response:
    return Response(b"", status=status, content_type=CONTENT_TYPE)


@bp.post("/flows/<flow>/endpoint")
def endpoint(flow: str) -> Response:
    service = _service()
    definition = service.definition(flow)
    if definition is None:
        return _empty(404)
    limit = service.max_body
    if request.content_length is not None and request.content_length > limit:
        return _empty(413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _empty(413)
    reply = service.handle(definition, body, request.headers.get("X-Hub-Signature-256"))
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


@bp.errorhandler(AnswerViolation)
def _violation(exc: AnswerViolation) -> Response:
    """Only raised when config.testing: fail loudly with the reason in the body."""
    return Response(f"answer violation: {exc.message}", status=500, content_type=CONTENT_TYPE)
