"""The admin API and CLI over webhook endpoints and deliveries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.models import Delivery, WebhookEndpoint
from app.pagination import encode_cursor
from tests.delivery.conftest import deliveries, run_worker, submit, verify
from tests.delivery.receiver import Reply

DELIVERY_KEYS = {
    "id",
    "event_id",
    "endpoint_id",
    "event_type",
    "status",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
}


def _create(client, api_headers, url, **extra):
    return client.post("/api/v1/webhook-endpoints", json={"url": url, **extra}, headers=api_headers)


def test_create_returns_the_secret_once(client, api_headers, receiver):
    rx = receiver()
    response = _create(client, api_headers, rx.url, events=["flow.submitted"], description="CRM")
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == {"id", "url", "events", "enabled", "secret"}
    assert created["secret"].startswith("whsec_") and created["enabled"] is True
    assert created["events"] == ["flow.submitted"]
    listed = client.get("/api/v1/webhook-endpoints", headers=api_headers).get_json()
    assert listed["next_cursor"] is None
    [item] = listed["items"]
    assert item["id"] == created["id"] and item["description"] == "CRM"
    assert "secret" not in item and created["secret"] not in str(listed)
    one = client.get(f"/api/v1/webhook-endpoints/{created['id']}", headers=api_headers)
    assert one.status_code == 200 and "secret" not in one.get_json()


def test_refused_and_invalid_endpoints_change_nothing(client, api_headers, app):
    cases = [
        ({"url": "http://10.0.0.8/hook"}, "url_not_allowed"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url_not_allowed"),
        ({"url": "http://[::ffff:127.0.0.2]/x"}, "url_not_allowed"),
        ({"url": "ftp://127.0.0.1/x"}, "url_not_allowed"),
        ({"url": "http://127.0.0.1:1/x", "events": ["lead.deleted"]}, "invalid_request"),
        ({"url": "http://127.0.0.1:1/x", "events": []}, "invalid_request"),
        ({"url": 5}, "invalid_request"),
        ({}, "invalid_request"),
    ]
    for body, code in cases:
        response = client.post("/api/v1/webhook-endpoints", json=body, headers=api_headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == code, body
    with app.extensions["flowgate"].db.session() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_api_needs_a_token(client):
    assert client.get("/api/v1/webhook-endpoints").status_code == 401
    assert client.post("/api/v1/deliveries/x/retry").status_code == 401


def test_rotate_disable_enable_delete(client, api_headers, receiver, db):
    rx = receiver()
    created = _create(client, api_headers, rx.url).get_json()
    base = f"/api/v1/webhook-endpoints/{created['id']}"
    rotated = client.post(f"{base}/rotate-secret", headers=api_headers).get_json()
    assert rotated["secret"] != created["secret"] and rotated["previous_secret_expires_at"]
    off = client.post(f"{base}/disable", headers=api_headers).get_json()
    assert off["enabled"] is False and off["disabled_reason"]
    submit(db)
    assert deliveries(db) == []  # a disabled endpoint gets no new deliveries
    on = client.post(f"{base}/enable", headers=api_headers).get_json()
    assert on["enabled"] is True and on["disabled_reason"] is None
    submit(db)
    run_worker(db)
    [request] = rx.requests
    verify(request, created["secret"])
    verify(request, rotated["secret"])
    assert client.delete(base, headers=api_headers).status_code == 204
    assert client.get(base, headers=api_headers).status_code == 404
    assert client.delete(base, headers=api_headers).status_code == 404
    assert deliveries(db) == []


def test_deliveries_list_retry_and_replay(client, api_headers, receiver, db):
    answers = iter([410] + [200] * 10)
    rx = receiver(lambda _n, _r: Reply(status=next(answers)))
    created = _create(client, api_headers, rx.url).get_json()
    base = f"/api/v1/webhook-endpoints/{created['id']}"
    [event_id] = submit(db)
    run_worker(db)
    listed = client.get(f"{base}/deliveries", headers=api_headers).get_json()
    [item] = listed["items"]
    assert set(item) == DELIVERY_KEYS
    assert item["status"] == "failed" and item["last_status_code"] == 410
    assert item["event_id"] == event_id and item["next_attempt_at"] is None
    assert client.get(base, headers=api_headers).get_json()["enabled"] is False

    client.post(f"{base}/enable", headers=api_headers)
    retried = client.post(f"/api/v1/deliveries/{item['id']}/retry", headers=api_headers)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    run_worker(db)
    detailed = client.get(f"/api/v1/deliveries/{item['id']}", headers=api_headers).get_json()
    assert detailed["status"] == "delivered" and detailed["attempts"] == 2
    assert [a["status_code"] for a in detailed["attempt_log"]] == [410, 200]
    assert rx.ids() == [event_id, event_id]

    # Replay everything that failed since a time, for this endpoint only.
    with db.transaction() as session:
        session.execute(Delivery.__table__.update().values(status="failed"))
    since = (clock.now() - timedelta(hours=1)).isoformat()
    replay = client.post(f"{base}/retry-failed", json={"since": since}, headers=api_headers)
    assert replay.get_json() == {"retried": 1}
    future = (clock.now() + timedelta(hours=1)).isoformat()
    none = client.post(f"{base}/retry-failed", json={"since": future}, headers=api_headers)
    assert none.get_json() == {"retried": 0}
    run_worker(db)
    assert rx.ids() == [event_id] * 3
    with_log = client.get(
        f"{base}/deliveries?include_attempts=true&status=delivered", headers=api_headers
    ).get_json()
    assert len(with_log["items"][0]["attempt_log"]) == 3


def test_deliveries_paginate_and_refuse_bad_input(client, api_headers, receiver, db):
    created = _create(client, api_headers, receiver().url).get_json()
    base = f"/api/v1/webhook-endpoints/{created['id']}/deliveries"
    submit(db, 5)
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = client.get(base + query, headers=api_headers).get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    nul_id = encode_cursor({"t": "2026-03-01T12:00:00Z", "id": "\x00"})  # PostgreSQL: no NUL
    for bad in ("?cursor=nonsense", "?limit=0", "?status=lost", f"?cursor={nul_id}"):
        response = client.get(base + bad, headers=api_headers)
        assert response.status_code == 400, bad
    assert (
        client.get("/api/v1/webhook-endpoints/nope/deliveries", headers=api_headers).status_code
        == 404
    )
    assert client.post("/api/v1/deliveries/nope/retry", headers=api_headers).status_code == 404
    bad_since = client.post(
        f"/api/v1/webhook-endpoints/{created['id']}/retry-failed",
        json={"since": "yesterday"},
        headers=api_headers,
    )
    assert bad_since.status_code == 400


def test_openapi_documents_the_webhook_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/webhook-endpoints" in paths
    assert "/api/v1/deliveries/{delivery_id}/retry" in paths


def test_cli_add_and_list(runner, receiver):
    rx = receiver()
    added = runner.invoke(["webhooks", "add", rx.url, "--event", "flow.submitted"])
    assert added.exit_code == 0, added.output
    assert "secret: whsec_" in added.output
    listed = runner.invoke(["webhooks", "list"])
    assert listed.exit_code == 0 and rx.url in listed.output and "whsec_" not in listed.output
    refused = runner.invoke(["webhooks", "add", "http://192.168.1.1/x"])
    assert refused.exit_code != 0 and "private" in refused.output


def test_endpoint_list_pages_with_limit_and_cursor(client, api_headers):
    created = [
        _create(client, api_headers, f"http://127.0.0.1:9/{n}").get_json()["id"] for n in range(3)
    ]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/webhook-endpoints", query_string=query, headers=api_headers)
        assert page.status_code == 200
        seen += [item["id"] for item in page.get_json()["items"]]
        cursor = page.get_json()["next_cursor"]
        if not cursor:
            break
    assert seen == created
    nul_id = encode_cursor({"t": "2026-03-01T12:00:00Z", "id": "\x00"})  # PostgreSQL: no NUL
    for bad in ({"limit": 501}, {"limit": 0}, {"cursor": "x"}, {"cursor": nul_id}):
        response = client.get("/api/v1/webhook-endpoints", query_string=bad, headers=api_headers)
        assert response.status_code == 400, bad
