"""Unrouted replies are leads, and invalid or unrouted leads reach the business as
`submission.invalid` events (docs/leads.md, docs/api.md)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.db import Database
from app.leads.inbox import Inbox, reprocess
from app.models import Delivery, Event, InboundNotification, Submission
from tests.conftest import API_TOKEN
from tests.leads.meta import LEAD, nfm_reply, post, token_for
from tests.leads.test_webhook import _app_with_flows

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


def _endpoint(app: Flask, events: list[str] | None) -> str:
    body: dict[str, Any] = {"url": "http://127.0.0.1:9/hook"}
    if events is not None:
        body["events"] = events
    response = app.test_client().post("/api/v1/webhook-endpoints", json=body, headers=HEADERS)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_unrouted_and_invalid_leads_raise_submission_invalid(
    settings: dict[str, str], db: Database, tmp_path: Any
) -> None:
    app = _app_with_flows(settings, tmp_path, {"callback": None})  # two endpoint-less flows
    try:
        client = app.test_client()
        default = _endpoint(app, None)
        invalid_only = _endpoint(app, ["submission.invalid"])
        both = _endpoint(app, ["flow.submitted", "submission.invalid"])

        # 1. a reply no flow claims; 2. an invalid lead; 3. a valid lead.
        assert post(client, nfm_reply(LEAD, message_id="wamid.u")).status_code == 200
        bad = {**LEAD, "email": "not an email"}
        token = token_for("5511912345678")
        assert post(client, nfm_reply(bad, message_id="wamid.i", token=token)).status_code == 200
        good = token_for("5511912345678")
        assert post(client, nfm_reply(LEAD, message_id="wamid.v", token=good)).status_code == 200

        with db.session() as session:
            subs = {s.message_id: s for s in session.scalars(select(Submission))}
            events = {e.submission_id: e for e in session.scalars(select(Event))}
            deliveries = {(d.event_id, d.endpoint_id) for d in session.scalars(select(Delivery))}
        unrouted, invalid, valid = subs["wamid.u"], subs["wamid.i"], subs["wamid.v"]
        assert (unrouted.flow, unrouted.status) == (None, "unrouted")
        assert (invalid.flow, invalid.status) == ("lead_capture", "invalid")
        assert valid.status == "valid"

        for sub in (unrouted, invalid):
            body = json.loads(events[sub.id].body)
            assert body["type"] == "submission.invalid"
            data = body["data"]
            assert set(data) == {
                "submission_id", "flow", "flow_token", "wa_id", "contact_name",
                "submitted_at", "source", "fields", "window", "errors",
            }  # fmt: skip
            assert data["submission_id"] == sub.id and data["flow"] == sub.flow
            assert data["errors"] == sub.errors and data["errors"]
        assert json.loads(events[valid.id].body)["type"] == "flow.submitted"
        assert "errors" not in json.loads(events[valid.id].body)["data"]

        expected = {
            (events[unrouted.id].id, invalid_only),
            (events[unrouted.id].id, both),
            (events[invalid.id].id, invalid_only),
            (events[invalid.id].id, both),
            (events[valid.id].id, default),
            (events[valid.id].id, both),
        }
        assert deliveries == expected

        # Visible in the admin API with flow null, filterable by status, and in the CSV.
        listed = client.get("/api/v1/submissions?status=unrouted", headers=HEADERS).get_json()
        assert [(i["id"], i["flow"], i["status"]) for i in listed["items"]] == [
            (unrouted.id, None, "unrouted")
        ]
        item = client.get(f"/api/v1/submissions/{unrouted.id}", headers=HEADERS)
        assert item.status_code == 200 and item.get_json()["flow"] is None
        csv = client.get("/api/v1/submissions.csv", headers=HEADERS).get_data(as_text=True)
        assert unrouted.id in csv and '"unrouted"' in csv
    finally:
        app.extensions["flowgate"].db.dispose()


def test_reprocess_routes_an_unrouted_lead_once_a_flow_claims_it(
    settings: dict[str, str], db: Database, tmp_path: Any, app: Flask
) -> None:
    two = _app_with_flows(settings, tmp_path, {"callback": None})
    try:
        assert post(two.test_client(), nfm_reply(LEAD, message_id="wamid.u")).status_code == 200
    finally:
        two.extensions["flowgate"].db.dispose()
    # Back to one endpoint-less flow (the `app` fixture's flows/): it now claims the reply.
    rt = app.extensions["flowgate"]
    receipts = reprocess(Inbox(rt.db, rt.registry, rt.config.token_secret), [])
    assert receipts == []  # processed rows are reprocessed only by id
    with db.session() as session:
        notification_id = session.scalars(select(InboundNotification.id)).one()
    reprocess(Inbox(rt.db, rt.registry, rt.config.token_secret), [notification_id])
    reprocess(Inbox(rt.db, rt.registry, rt.config.token_secret), [notification_id])
    with db.session() as session:
        sub = session.scalars(select(Submission)).one()
        types = sorted(session.scalars(select(Event.type)))
    assert (sub.flow, sub.status, sub.errors) == ("lead_capture", "valid", [])
    assert types == ["flow.submitted", "submission.invalid"]
