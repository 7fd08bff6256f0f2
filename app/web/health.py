"""`GET /healthz`: is the process alive and can it reach its database?"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.web import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 with `database: "ok"` when the database answers, else 503 (for load balancers)."""
    rt = runtime()
    reachable = rt.db.ping()
    flows = rt.registry.all()
    body = {
        "status": "ok" if reachable else "unavailable",
        "database": "ok" if reachable else "unreachable",
        "flows": {"loaded": len(flows), "served": sum(1 for f in flows if f.valid)},
    }
    return jsonify(body), 200 if reachable else 503
