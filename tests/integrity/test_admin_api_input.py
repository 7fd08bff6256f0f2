"""Hostile admin API input is a 400 in the JSON error shape, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient

from tests.conftest import API_TOKEN

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
LISTS = ["/api/v1/submissions", "/api/v1/webhook-endpoints"]


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode("utf-8", "surrogatepass")).decode().rstrip("=")


def assert_400(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}


CURSORS = {
    "time_out_of_range": '{"t":"0001-01-01T00:00:00+14:00","id":"x"}',
    "time_far_future": '{"t":"9999-12-31T23:59:59-14:00","id":"x"}',
    "lone_surrogate_id": '{"t":"2026-01-01T00:00:00+00:00","id":"\\ud800"}',
    "raw_surrogate_id": '{"t":"2026-01-01T00:00:00+00:00","id":"\ud800"}',
    "deep_nesting": "[" * 2000 + "]" * 2000,
    "deep_in_id": '{"t":"2026-01-01T00:00:00+00:00","id":' + "[" * 2000 + "]" * 2000 + "}",
}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("raw", CURSORS.values(), ids=CURSORS.keys())
def test_hostile_cursors_are_400(client: FlaskClient, path: str, raw: str) -> None:
    assert_400(client.get(path, query_string={"cursor": cursor(raw)}, headers=HEADERS))


def test_hostile_delivery_list_cursor_is_400(client: FlaskClient) -> None:
    created = client.post(
        "/api/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/h"}, headers=HEADERS
    ).get_json()
    path = f"/api/v1/webhook-endpoints/{created['id']}/deliveries"
    for raw in CURSORS.values():
        assert_400(client.get(path, query_string={"cursor": cursor(raw)}, headers=HEADERS))


@pytest.mark.parametrize(
    "path", ["/api/v1/webhook-endpoints", "/api/v1/flow-tokens", "/api/v1/messages"]
)
def test_deeply_nested_body_is_400(client: FlaskClient, path: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    headers = {**HEADERS, "Content-Type": "application/json"}
    assert_400(client.post(path, data=body, headers=headers))
    nested = '{"url": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert_400(client.post(path, data=nested, headers=headers))


@pytest.mark.parametrize("field", ["url", "description"])
def test_lone_surrogate_in_a_webhook_endpoint_is_400(client: FlaskClient, field: str) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "description": "ok"}
    raw = json.dumps(body).replace(f'"{body[field]}"', f'"{body[field]}\\udc80"')
    headers = {**HEADERS, "Content-Type": "application/json"}
    response = client.post("/api/v1/webhook-endpoints", data=raw, headers=headers)
    assert_400(response)
    assert field in response.get_json()["error"]["details"]
    listed = client.get("/api/v1/webhook-endpoints", headers=HEADERS).get_json()
    assert listed["items"] == []  # nothing changed


@pytest.mark.parametrize("depth", [300, 600, 900, 990])
def test_body_nested_just_below_the_parser_limit_is_not_a_500(
    client: FlaskClient, depth: int
) -> None:
    body = '{"url": "http://127.0.0.1:9/h", "description": ' + "[" * depth + "]" * depth + "}"
    headers = {**HEADERS, "Content-Type": "application/json"}
    assert_400(client.post("/api/v1/webhook-endpoints", data=body, headers=headers))
