"""`POST /api/v1/flow-tokens`: issue a flow token to put on a Flow message."""

from __future__ import annotations

from typing import Any

from app.api.schemas.tokens import FlowTokenRequestSchema, FlowTokenSchema
from app.clock import isoformat
from app.endpoint.issuing import issue_for_flow
from app.web import runtime
from app.web.api import route


@route(
    "/flow-tokens",
    "POST",
    summary="Issue a flow token bound to a flow and a contact",
    tag="flow-tokens",
    body=FlowTokenRequestSchema,
    response=FlowTokenSchema,
    status=201,
    errors=(400,),
)
def issue_flow_token(body: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    issued = issue_for_flow(
        rt.registry,
        rt.config.token_secret,
        flow=body["flow"],
        wa_id=body["wa_id"],
        ttl_seconds=body["ttl_seconds"],
    )
    return {
        "flow_token": issued.flow_token,
        "flow": issued.flow,
        "wa_id": issued.wa_id,
        "expires_at": isoformat(issued.expires_at),
    }
