"""Webhook endpoints and their deliveries: state, attempts, and the operator's actions.

Every action is a POST with the CSRF token, then a redirect back (the page a reload shows
never repeats it), except rotating a secret: its answer shows the new secret once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.delivery import subscriptions as core
from app.delivery.overview import send_test_event, status_counts
from app.models.enums import DeliveryStatus
from app.web import db_session
from app.web.dashboard import bp

log = logging.getLogger("flowgate.dashboard")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_SIZE = 50


def _back(default: str) -> Response:
    target = request.form.get("back") or ""
    ok = target.startswith("/dashboard/") and not target.startswith("//")
    return redirect(target if ok else default, 303)


@bp.get("/webhooks")
def webhooks() -> str:
    session = db_session()
    endpoints, _ = core.list_endpoints(session)
    return render_template(
        "dashboard/webhooks.html", endpoints=endpoints, counts=status_counts(session)
    )


@bp.get("/webhooks/<endpoint_id>")
def endpoint(endpoint_id: str) -> str:
    session = db_session()
    found = core.get_endpoint(session, endpoint_id)
    status = request.args.get("status") or None
    if status not in (None, *DeliveryStatus):
        status = None
    cursor = request.args.get("cursor") or None
    rows, next_cursor = core.list_deliveries(
        session, endpoint_id, status=status, limit=PAGE_SIZE, cursor=cursor
    )
    return render_template(
        "dashboard/endpoint.html",
        endpoint=found,
        deliveries=rows,
        attempts=core.attempts_of(session, [d.id for d in rows]),
        counts=status_counts(session).get(endpoint_id, {}),
        status=status,
        statuses=list(DeliveryStatus),
        next_url=url_for(
            "dashboard.endpoint", endpoint_id=endpoint_id, status=status, cursor=next_cursor
        )
        if next_cursor
        else None,
    )


def _commit() -> None:
    db_session().commit()


@bp.post("/webhooks/<endpoint_id>/enable")
def enable(endpoint_id: str) -> Response:
    core.set_enabled(db_session(), endpoint_id, True)
    _commit()
    flash("Endpoint enabled: waiting deliveries go out now.", "ok")
    return _back(url_for("dashboard.webhooks"))


@bp.post("/webhooks/<endpoint_id>/disable")
def disable(endpoint_id: str) -> Response:
    core.set_enabled(db_session(), endpoint_id, False)
    _commit()
    flash("Endpoint disabled: new deliveries wait until it is enabled again.", "ok")
    return _back(url_for("dashboard.webhooks"))


@bp.post("/webhooks/<endpoint_id>/replay-failed")
def replay_failed(endpoint_id: str) -> Response:
    count = core.retry_failed_since(db_session(), endpoint_id, EPOCH)
    _commit()
    flash(f"{count} failed deliver{'y' if count == 1 else 'ies'} queued again.", "ok")
    return _back(url_for("dashboard.endpoint", endpoint_id=endpoint_id))


@bp.post("/webhooks/<endpoint_id>/test")
def test_event(endpoint_id: str) -> Response:
    send_test_event(db_session(), endpoint_id)
    _commit()
    flash("Test event queued: the worker sends it within seconds.", "ok")
    return _back(url_for("dashboard.endpoint", endpoint_id=endpoint_id))


@bp.post("/webhooks/<endpoint_id>/rotate-secret")
def rotate(endpoint_id: str) -> str:
    rotated = core.rotate_secret(db_session(), endpoint_id)
    secret = rotated.secret
    _commit()
    log.info("webhook endpoint %s: secret rotated from the dashboard", endpoint_id)
    return render_template("dashboard/secret.html", endpoint=rotated, secret=secret)


@bp.post("/deliveries/<delivery_id>/retry")
def retry(delivery_id: str) -> Response:
    delivery = core.retry_delivery(db_session(), delivery_id)
    endpoint_id = delivery.endpoint_id
    _commit()
    flash("Delivery queued again: same event, same webhook-id.", "ok")
    return _back(url_for("dashboard.endpoint", endpoint_id=endpoint_id))
