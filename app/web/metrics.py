"""`GET /metrics`: Prometheus text format (docs/operations.md).

Open to loopback and private addresses by default; with FLOWGATE_METRICS_TOKEN set, only to a
scraper sending `Authorization: Bearer <token>` (compared in constant time).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from app.ops.exposition import allowed, render
from app.web import runtime
from app.web.errors import error_response

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    rt = runtime()
    token = rt.config.metrics_token
    if not allowed(request.remote_addr, request.headers.get("Authorization"), token):
        if token:
            response = error_response(401, "unauthorized", "A valid metrics token is required.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return error_response(
            403, "forbidden", "Metrics are open to internal addresses only; set a token."
        )
    return Response(render(rt.db), status=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
