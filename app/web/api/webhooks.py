"""`/api/v1/webhook-endpoints` and `/api/v1/deliveries`: the HTTP face of app/delivery."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from app.api.schemas.common import PageQuerySchema, list_of
from app.api.schemas.webhooks import (
    DeliveryListQuerySchema,
    DeliverySchema,
    EndpointCreatedSchema,
    EndpointCreateSchema,
    EndpointRotatedSchema,
    EndpointSchema,
    RetriedSchema,
    RetryFailedSchema,
)
from app.delivery import subscriptions as core
from app.delivery.ssrf import parse_networks
from app.errors import NotFound
from app.models import Delivery, WebhookEndpoint
from app.web import db_session, runtime
from app.web.api import route

TAG = "webhooks"


def _guard() -> core.Guard:
    return core.Guard(allow=parse_networks(runtime().config.webhook_allow_networks))


@route(
    "/webhook-endpoints",
    "POST",
    summary="Register a webhook endpoint (the SSRF guard checks its URL); returns its secret once",
    tag=TAG,
    body=EndpointCreateSchema,
    response=EndpointCreatedSchema,
    status=201,
    errors=(400,),
)
def create_endpoint(body: dict[str, Any]) -> dict[str, Any]:
    with runtime().db.transaction() as session:
        endpoint = core.create_endpoint(
            session, body["url"], body["events"], description=body["description"], guard=_guard()
        )
        return core.endpoint_to_dict(endpoint, with_secret=True)


@route(
    "/webhook-endpoints",
    summary="List webhook endpoints, oldest first (without secrets)",
    tag=TAG,
    query=PageQuerySchema,
    response=list_of(EndpointSchema),
    errors=(400,),
)
def list_endpoints(query: dict[str, Any]) -> dict[str, Any]:
    rows, cursor = core.list_endpoints(db_session(), limit=query["limit"], cursor=query["cursor"])
    return {"items": [core.endpoint_to_dict(e) for e in rows], "next_cursor": cursor}


@route(
    "/webhook-endpoints/<endpoint_id>",
    summary="One webhook endpoint",
    tag=TAG,
    response=EndpointSchema,
    errors=(404,),
)
def get_endpoint(endpoint_id: str) -> dict[str, Any]:
    return core.endpoint_to_dict(core.get_endpoint(db_session(), endpoint_id))


@route(
    "/webhook-endpoints/<endpoint_id>",
    "DELETE",
    summary="Delete a webhook endpoint with its deliveries",
    tag=TAG,
    status=204,
    errors=(404,),
)
def delete_endpoint(endpoint_id: str) -> Response:
    with runtime().db.transaction() as session:
        core.delete_endpoint(session, endpoint_id)
    return Response(status=204)


def _change(
    change: Callable[[Session, str], WebhookEndpoint],
    endpoint_id: str,
    *,
    with_secret: bool = False,
) -> dict[str, Any]:
    """Apply one core change to an endpoint in its own transaction and answer the result."""
    with runtime().db.transaction() as session:
        return core.endpoint_to_dict(change(session, endpoint_id), with_secret=with_secret)


@route(
    "/webhook-endpoints/<endpoint_id>/disable",
    "POST",
    summary="Disable an endpoint: its deliveries wait until it is enabled again",
    tag=TAG,
    response=EndpointSchema,
    errors=(404,),
)
def disable_endpoint(endpoint_id: str) -> dict[str, Any]:
    return _change(partial(core.set_enabled, enabled=False), endpoint_id)


@route(
    "/webhook-endpoints/<endpoint_id>/enable",
    "POST",
    summary="Enable an endpoint (also after an automatic disable)",
    tag=TAG,
    response=EndpointSchema,
    errors=(404,),
)
def enable_endpoint(endpoint_id: str) -> dict[str, Any]:
    return _change(partial(core.set_enabled, enabled=True), endpoint_id)


@route(
    "/webhook-endpoints/<endpoint_id>/rotate-secret",
    "POST",
    summary="New secret; the previous one also signs for 24 hours",
    tag=TAG,
    response=EndpointRotatedSchema,
    errors=(404,),
)
def rotate_secret(endpoint_id: str) -> dict[str, Any]:
    return _change(core.rotate_secret, endpoint_id, with_secret=True)


@route(
    "/webhook-endpoints/<endpoint_id>/deliveries",
    summary="An endpoint's deliveries, newest first (optionally with their attempt logs)",
    tag=TAG,
    query=DeliveryListQuerySchema,
    response=list_of(DeliverySchema),
    errors=(400, 404),
)
def list_deliveries(endpoint_id: str, query: dict[str, Any]) -> dict[str, Any]:
    session = db_session()
    rows, cursor = core.list_deliveries(
        session, endpoint_id, status=query["status"], limit=query["limit"], cursor=query["cursor"]
    )
    if query["include_attempts"]:
        items = _with_attempt_logs(session, rows)
    else:
        items = [core.delivery_to_dict(d) for d in rows]
    return {"items": items, "next_cursor": cursor}


@route(
    "/webhook-endpoints/<endpoint_id>/retry-failed",
    "POST",
    summary="Replay every failed delivery of this endpoint created since a time",
    tag=TAG,
    body=RetryFailedSchema,
    response=RetriedSchema,
    errors=(400, 404),
)
def retry_failed(endpoint_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with runtime().db.transaction() as session:
        return {"retried": core.retry_failed_since(session, endpoint_id, body["since"])}


@route(
    "/deliveries/<delivery_id>",
    summary="One delivery with its attempt log",
    tag=TAG,
    response=DeliverySchema,
    errors=(404,),
)
def get_delivery(delivery_id: str) -> dict[str, Any]:
    session = db_session()
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    return _with_attempt_logs(session, [delivery])[0]


def _with_attempt_logs(session: Session, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """The deliveries as the API shows them, each with its attempt log (one query for all)."""
    logs = core.attempts_of(session, [d.id for d in deliveries])
    return [
        {**core.delivery_to_dict(d), "attempt_log": [core.attempt_to_dict(a) for a in logs[d.id]]}
        for d in deliveries
    ]


@route(
    "/deliveries/<delivery_id>/retry",
    "POST",
    summary="Make a delivery due now (any status); same event, same webhook-id",
    tag=TAG,
    response=DeliverySchema,
    errors=(404,),
)
def retry_delivery(delivery_id: str) -> dict[str, Any]:
    with runtime().db.transaction() as session:
        return core.delivery_to_dict(core.retry_delivery(session, delivery_id))
