"""`GET /api/v1/flows/<name>/health`: the flow's endpoint health and Meta's alerts."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.api.schemas.health import FlowHealthSchema
from app.errors import NotFound
from app.ops.transitions import evaluate
from app.web import runtime
from app.web.api import route


@route(
    "/flows/<name>/health",
    summary="A flow's endpoint health over Meta's alert windows, with Meta's active alerts",
    tag="flows",
    response=FlowHealthSchema,
    errors=(404,),
)
def flow_health(name: str) -> dict[str, Any]:
    rt = runtime()
    if rt.registry is None or rt.registry.get(name) is None:
        raise NotFound(f"no flow {name!r}")
    observer = current_app.extensions.get("flowgate.observer")
    if observer is not None and observer.rollup is not None:
        observer.rollup.flush()  # this process's latest requests count too
    return evaluate(rt.db, name, rt.config)
