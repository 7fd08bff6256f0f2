"""`GET /readyz`: readiness, as opposed to `/healthz` (liveness).

`/healthz` answers whether the process lives and reaches its database; a load balancer
restarts nothing on its word about flows. `/readyz` also answers whether every flow in
FLOWGATE_FLOWS_DIR is served: a flow with validation errors is kept out of service (its
endpoint answers 404, docs/flow-validation.md), which a deployment should notice before it
takes traffic. 200 when the database answers and every flow is served; otherwise 503 with
`not_served` listing each such flow and its first errors (the rest: `flowgate flows validate`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app.web import runtime

bp = Blueprint("ready", __name__)
ERRORS_SHOWN = 5


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = runtime()
    reachable = rt.db.ping()
    flows = rt.registry.all() if rt.registry is not None else []
    not_served: list[dict[str, Any]] = [
        {
            "flow": d.name,
            "errors": [f"{e.code}: {e.message}" for e in d.errors[:ERRORS_SHOWN]],
        }
        for d in flows
        if not d.valid
    ]
    ready = reachable and not not_served
    body = {
        "status": "ready" if ready else "not_ready",
        "database": "ok" if reachable else "unreachable",
        "served": sorted(d.name for d in flows if d.valid),
        "not_served": not_served,
    }
    return jsonify(body), 200 if ready else 503
