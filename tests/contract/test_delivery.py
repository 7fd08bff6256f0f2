"""docs/contract.md "Events" and the webhook-endpoint/delivery contract, through the API, the real
worker CLI and a loopback receiver that verifies with the `standardwebhooks` package."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.contract.wire import AUTH, ISO_Z, LEAD_FIELDS, issue_token, nfm_reply, post_meta

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
EVENT_DATA_KEYS = {
    "submission_id",
    "flow",
    "flow_token",
    "wa_id",
    "contact_name",
    "submitted_at",
    "source",
    "fields",
    "window",
}


class Receiver:
    """A loopback HTTP receiver; answers with the next status of `plan` (then 200)."""

    def __init__(self, plan: list[int] | None = None) -> None:
        self.plan = list(plan or [])
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.calls.append((self.path, headers, body))
                status = owner.plan.pop(0) if owner.plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _endpoint(client, url: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    res = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "events": ["flow.submitted"], "description": "contract"},
        headers=AUTH,
    )
    assert res.status_code == 201, res.get_data(as_text=True)
    return res.get_json()


def _lead(client, wa_id: str = "447700900301") -> str:  # type: ignore[no-untyped-def]
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    note = nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, name="Ada")
    assert post_meta(client, note).status_code == 200
    return token


def _drain(runner, settings) -> None:  # type: ignore[no-untyped-def]
    """One `flowgate worker --drain` pass; the worker reads its settings from the environment."""
    result = runner.invoke(["worker", "--drain", "--poll", "0.05"], env=settings)
    assert result.exit_code == 0, result.output


def _verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert re.fullmatch(r"\d+", headers["webhook-timestamp"])
    assert headers["webhook-signature"].startswith("v1,")
    return Webhook(secret).verify(body, headers)


def test_create_endpoint_201_with_secret_once(client, receiver) -> None:  # type: ignore[no-untyped-def]
    created = _endpoint(client, receiver.url("/a"))
    assert set(created) == {"id", "url", "events", "enabled", "secret"}
    assert created["secret"].startswith("whsec_")
    assert created["url"] == receiver.url("/a")
    assert created["events"] == ["flow.submitted"] and created["enabled"] is True
    other = _endpoint(client, receiver.url("/b"))
    assert other["secret"] != created["secret"]
    listed = client.get("/api/v1/webhook-endpoints", headers=AUTH)
    assert listed.status_code == 200
    body = listed.get_json()
    assert set(body) == {"items", "next_cursor"}
    assert {e["id"] for e in body["items"]} == {created["id"], other["id"]}
    assert all("secret" not in e for e in body["items"])
    assert created["secret"] not in listed.get_data(as_text=True)


def test_rotate_returns_a_new_secret(client, receiver) -> None:  # type: ignore[no-untyped-def]
    created = _endpoint(client, receiver.url("/a"))
    res = client.post(f"/api/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=AUTH)
    assert res.status_code == 200
    assert res.get_json()["secret"].startswith("whsec_")
    assert res.get_json()["secret"] != created["secret"]


def test_delete_endpoint(client, receiver) -> None:  # type: ignore[no-untyped-def]
    created = _endpoint(client, receiver.url("/a"))
    res = client.delete(f"/api/v1/webhook-endpoints/{created['id']}", headers=AUTH)
    assert res.status_code in (200, 204)
    assert client.get("/api/v1/webhook-endpoints", headers=AUTH).get_json()["items"] == []


def test_event_shape_and_standard_webhooks_signature(client, runner, settings, receiver) -> None:  # type: ignore[no-untyped-def]
    first = _endpoint(client, receiver.url("/one"))
    second = _endpoint(client, receiver.url("/two"))
    token = _lead(client)
    _drain(runner, settings)
    by_path = {path: (headers, body) for path, headers, body in receiver.calls}
    assert set(by_path) == {"/one", "/two"}, [c[0] for c in receiver.calls]
    event = _verify(first["secret"], *by_path["/one"])
    assert _verify(second["secret"], *by_path["/two"]) == event
    with pytest.raises(WebhookVerificationError):  # each endpoint has its own secret
        Webhook(second["secret"]).verify(by_path["/one"][1], by_path["/one"][0])
    assert by_path["/one"][0]["webhook-id"] == by_path["/two"][0]["webhook-id"]

    assert set(event) == {"type", "timestamp", "data"}
    assert event["type"] == "flow.submitted"
    assert re.match(ISO_Z, event["timestamp"]), event["timestamp"]
    data = event["data"]
    assert set(data) == EVENT_DATA_KEYS
    assert data["flow"] == "lead_capture" and data["flow_token"] == token
    assert data["wa_id"] == "447700900301" and data["contact_name"] == "Ada"
    assert data["source"] == "webhook" and data["fields"] == LEAD_FIELDS
    assert re.match(ISO_Z, data["submitted_at"])
    assert set(data["window"]) == {"open", "expires_at"}
    assert data["window"]["open"] is True
    assert re.match(ISO_Z, data["window"]["expires_at"])
    sub = client.get(f"/api/v1/submissions/{data['submission_id']}", headers=AUTH)
    assert sub.status_code == 200

    deliveries = client.get(f"/api/v1/webhook-endpoints/{first['id']}/deliveries", headers=AUTH)
    assert deliveries.status_code == 200
    page = deliveries.get_json()
    assert set(page) == {"items", "next_cursor"}
    (delivery,) = page["items"]
    assert set(delivery) == DELIVERY_KEYS
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["event_type"] == "flow.submitted"
    assert delivery["endpoint_id"] == first["id"]
    assert delivery["last_status_code"] == 200


def test_same_webhook_id_on_every_attempt_and_failed_then_retry(client, runner, settings) -> None:  # type: ignore[no-untyped-def]
    flaky = Receiver(plan=[500, 503, 500])  # schedule "0,0.2,0.2": three attempts, all fail
    try:
        endpoint = _endpoint(client, flaky.url("/hook"))
        _lead(client)
        _drain(runner, settings)
        assert len(flaky.calls) == 3
        ids = {headers["webhook-id"] for _, headers, _ in flaky.calls}
        assert len(ids) == 1
        for _, headers, body in flaky.calls:
            _verify(endpoint["secret"], headers, body)
        page = client.get(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=AUTH
        ).get_json()
        (delivery,) = page["items"]
        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 3
        assert delivery["last_status_code"] == 500

        res = client.post(f"/api/v1/deliveries/{delivery['id']}/retry", headers=AUTH)
        assert res.status_code in (200, 202)
        after = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=AUTH).get_json()
        # GET /deliveries/<id> (not in docs/contract.md) adds "attempt_log": a superset, see audit
        assert set(after) >= DELIVERY_KEYS
        assert after["status"] == "pending"
        assert re.match(ISO_Z, after["next_attempt_at"])
        due = datetime.fromisoformat(after["next_attempt_at"].replace("Z", "+00:00"))
        assert due <= datetime.now(UTC)
        _drain(runner, settings)
        assert len(flaky.calls) == 4
        assert flaky.calls[-1][1]["webhook-id"] in ids
        final = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=AUTH).get_json()
        assert final["status"] == "delivered"
        json.loads(flaky.calls[-1][2])
    finally:
        flaky.close()


def test_endpoint_url_outside_allowed_networks_refused(client) -> None:  # type: ignore[no-untyped-def]
    """The SSRF guard checks the URL on create; nothing is contacted (127.0.0.2 not allowed)."""
    res = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "http://127.0.0.2:9/x", "events": ["flow.submitted"]},
        headers=AUTH,
    )
    assert 400 <= res.status_code < 500
    body = res.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}


def test_retry_makes_a_delivered_delivery_due_again_same_webhook_id(  # type: ignore[no-untyped-def]
    client, runner, settings, receiver
) -> None:
    endpoint = _endpoint(client, receiver.url("/hook"))
    _lead(client)
    _drain(runner, settings)
    page = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=AUTH)
    (delivery,) = page.get_json()["items"]
    assert delivery["status"] == "delivered"
    res = client.post(f"/api/v1/deliveries/{delivery['id']}/retry", headers=AUTH)
    assert res.status_code in (200, 202)
    _drain(runner, settings)
    assert len(receiver.calls) == 2
    assert receiver.calls[0][1]["webhook-id"] == receiver.calls[1][1]["webhook-id"]
    assert receiver.calls[0][2] == receiver.calls[1][2]  # same bytes on every attempt
    for _, headers, body in receiver.calls:
        _verify(endpoint["secret"], headers, body)


def test_endpoint_submission_event_has_source_endpoint(  # type: ignore[no-untyped-def]
    flow_client, runner, settings, receiver, private_key
) -> None:
    from tests.contract.wire import post_endpoint, seal

    endpoint = _endpoint(flow_client, receiver.url("/hook"))
    wa_id = "447700900399"
    token = issue_token(flow_client, "two_step", wa_id)["flow_token"]
    for screen, data in (("ONE", {"first": "a"}), ("TWO", {"second": "b"})):
        payload = {
            "version": "3.0",
            "action": "data_exchange",
            "screen": screen,
            "data": data,
            "flow_token": token,
        }
        sealed = seal(private_key.public_key(), payload)
        assert post_endpoint(flow_client, "two_step", sealed.body).status_code == 200
    params = sealed.open(post_endpoint(flow_client, "two_step", sealed.body).get_data())
    submission_id = params["data"]["extension_message_response"]["params"]["submission_id"]
    _drain(runner, settings)
    (call,) = receiver.calls
    event = _verify(endpoint["secret"], call[1], call[2])
    data = event["data"]
    assert set(data) == EVENT_DATA_KEYS
    assert data["source"] == "endpoint" and data["submission_id"] == submission_id
    assert data["flow"] == "two_step" and data["wa_id"] == wa_id and data["flow_token"] == token
    assert data["fields"] == {"first": "a", "second": "b"}
    # this contact never sent an inbound message: closed, no expiry (see docs/contract-audit.md)
    assert data["window"] == {"open": False, "expires_at": None}


def test_webhook_endpoint_list_honours_limit(client) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        _endpoint(client, f"http://127.0.0.1:9/{n}")
    page = client.get("/api/v1/webhook-endpoints", query_string={"limit": 1}, headers=AUTH)
    assert page.status_code == 200
    assert len(page.get_json()["items"]) == 1 and page.get_json()["next_cursor"]
    seen = [e["id"] for e in page.get_json()["items"]]
    cursor = page.get_json()["next_cursor"]
    while cursor:
        query = {"limit": 1, "cursor": cursor}
        nxt = client.get("/api/v1/webhook-endpoints", query_string=query, headers=AUTH).get_json()
        seen += [e["id"] for e in nxt["items"]]
        cursor = nxt["next_cursor"]
    assert len(seen) == 3 == len(set(seen))
    too_many = client.get("/api/v1/webhook-endpoints", query_string={"limit": 501}, headers=AUTH)
    assert too_many.status_code == 400
    assert set(too_many.get_json()) == {"error"}


def test_after_rotation_deliveries_verify_with_the_new_secret(  # type: ignore[no-untyped-def]
    client, runner, settings, receiver
) -> None:
    endpoint = _endpoint(client, receiver.url("/hook"))
    res = client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=AUTH)
    new_secret = res.get_json()["secret"]
    _lead(client)
    _drain(runner, settings)
    (call,) = receiver.calls
    event = _verify(new_secret, call[1], call[2])
    assert event["type"] == "flow.submitted"
