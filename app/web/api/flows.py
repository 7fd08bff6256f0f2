"""`/api/v1/flows`: every flow with whether it is served, and one flow's validation report."""

from __future__ import annotations

from typing import Any

from app.api.schemas.common import PageQuerySchema, list_of
from app.api.schemas.flows import FlowSchema, FlowSummarySchema
from app.errors import NotFound
from app.flowjson.registry import FlowRegistry, report
from app.pagination import decode_cursor, encode_cursor, trim
from app.web import runtime
from app.web.api import route


def _registry() -> FlowRegistry:
    return runtime().registry


@route(
    "/flows",
    summary="List flows (valid and invalid) by name",
    tag="flows",
    query=PageQuerySchema,
    response=list_of(FlowSummarySchema),
    errors=(400,),
)
def list_flows(query: dict[str, Any]) -> dict[str, Any]:
    flows = _registry().all()
    if query["cursor"]:
        after = decode_cursor(query["cursor"], ("name",))["name"]
        flows = [f for f in flows if f.name > str(after)]
    page, last = trim(flows, query["limit"])
    return {
        "items": [report(f) for f in page],
        "next_cursor": encode_cursor({"name": last.name}) if last is not None else None,
    }


@route(
    "/flows/<name>",
    summary="One flow with its validation report",
    tag="flows",
    response=FlowSchema,
    errors=(404,),
)
def get_flow(name: str) -> dict[str, Any]:
    definition = _registry().get(name)
    if definition is None:
        raise NotFound(f"no flow {name!r}")
    return {**report(definition), "submission_schema": definition.schema}
