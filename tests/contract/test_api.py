"""docs/contract.md admin API contract: list envelope, limits, cursor, filters, errors, tokens,
contacts' window, OpenAPI without a token, /healthz."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.contract.wire import (
    AUTH,
    ISO_Z,
    LEAD_FIELDS,
    assert_error_shape,
    failed_status,
    issue_token,
    nfm_reply,
    post_meta,
    text_message,
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    assert re.match(ISO_Z, value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _leads(client, count: int, wa_prefix: str = "4477009") -> list[str]:  # type: ignore[no-untyped-def]
    """`count` valid lead_capture leads through signed nfm_replies; their wa_ids."""
    wa_ids = []
    for n in range(count):
        wa_id = f"{wa_prefix}{n:05d}"
        token = issue_token(client, "lead_capture", wa_id)["flow_token"]
        assert (
            post_meta(client, nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS})).status_code
            == 200
        )
        wa_ids.append(wa_id)
    return wa_ids


# --- lists -----------------------------------------------------------------------------------


def test_list_envelope_default_limit_cursor_walk(client) -> None:  # type: ignore[no-untyped-def]
    _leads(client, 53)
    first = client.get("/api/v1/submissions", headers=AUTH)
    assert first.status_code == 200
    body = first.get_json()
    assert set(body) == {"items", "next_cursor"}
    assert len(body["items"]) == 50  # default limit
    assert isinstance(body["next_cursor"], str) and body["next_cursor"]

    everything = client.get("/api/v1/submissions", query_string={"limit": 500}, headers=AUTH)
    assert everything.status_code == 200
    all_ids = [i["id"] for i in everything.get_json()["items"]]
    assert len(all_ids) == 53 and everything.get_json()["next_cursor"] is None

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query: dict[str, object] = {"limit": 7}
        if cursor:
            query["cursor"] = cursor
        page = client.get("/api/v1/submissions", query_string=query, headers=AUTH).get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert pages < 20
    assert sorted(seen) == sorted(all_ids) and len(seen) == len(set(seen))


@pytest.mark.parametrize("limit", ["501", "0", "-1", "abc", "1.5"])
def test_limit_out_of_range_is_400_with_error_shape(client, limit) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions", query_string={"limit": limit}, headers=AUTH)
    assert_error_shape(res, 400)


def test_limit_500_is_accepted(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions", query_string={"limit": 500}, headers=AUTH)
    assert res.status_code == 200


def test_tampered_cursor_is_400(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions", query_string={"cursor": "!!nope"}, headers=AUTH)
    assert_error_shape(res, 400)


def test_filters_flow_wa_id_status_since_until(client) -> None:  # type: ignore[no-untyped-def]
    good = _leads(client, 2, "4477001")
    bad_wa = "447700200000"
    token = issue_token(client, "lead_capture", bad_wa)["flow_token"]
    invalid = {"flow_token": token, **LEAD_FIELDS, "email": "not-an-email"}
    assert post_meta(client, nfm_reply(bad_wa, invalid)).status_code == 200

    def ids(**query: object) -> set[str]:
        res = client.get("/api/v1/submissions", query_string=query, headers=AUTH)
        assert res.status_code == 200, res.get_data(as_text=True)
        return {i["wa_id"] for i in res.get_json()["items"]}

    assert ids() == {*good, bad_wa}  # status default all
    assert ids(status="all") == {*good, bad_wa}
    assert ids(status="valid") == set(good)
    assert ids(status="invalid") == {bad_wa}
    assert ids(wa_id=good[0]) == {good[0]}
    assert ids(flow="lead_capture") == {*good, bad_wa}
    assert ids(flow="appointment") == set()
    now = datetime.now(UTC)
    assert ids(since=_iso(now - timedelta(minutes=5))) == {*good, bad_wa}
    assert ids(since=_iso(now + timedelta(minutes=5))) == set()
    assert ids(until=_iso(now - timedelta(minutes=5))) == set()
    assert ids(until=_iso(now + timedelta(minutes=5))) == {*good, bad_wa}
    assert ids(since=(now - timedelta(minutes=5)).isoformat()) == {*good, bad_wa}  # +00:00 form


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2026-13-45T00:00:00Z"},
        {"since": "not-a-date"},
        {"status": "pending"},
    ],
)
def test_bad_filters_are_400_with_error_shape(client, query) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(client.get("/api/v1/submissions", query_string=query, headers=AUTH), 400)


# --- errors and auth -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}]
)
def test_api_needs_a_bearer_token(client, headers) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions", headers=headers)
    assert res.status_code in (401, 403)
    assert_error_shape(res, res.status_code)


def test_unknown_submission_is_404_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(client.get("/api/v1/submissions/nope", headers=AUTH), 404)


def test_unknown_api_path_is_404_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(client.get("/api/v1/no-such-thing", headers=AUTH), 404)


def test_wrong_method_is_405_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(client.delete("/api/v1/submissions", headers=AUTH), 405)


def test_malformed_json_body_is_400_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    res = client.post(
        "/api/v1/flow-tokens",
        data=b"{nope",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_error_shape(res, 400)


# --- flow tokens -----------------------------------------------------------------------------


def test_flow_token_api_201_shape(client) -> None:  # type: ignore[no-untyped-def]
    before = datetime.now(UTC)
    res = client.post(
        "/api/v1/flow-tokens",
        json={"flow": "appointment", "wa_id": "447700900111", "ttl_seconds": 3600},
        headers=AUTH,
    )
    assert res.status_code == 201
    body = res.get_json()
    assert set(body) == {"flow_token", "flow", "wa_id", "expires_at"}
    assert body["flow"] == "appointment" and body["wa_id"] == "447700900111"
    assert isinstance(body["flow_token"], str) and body["flow_token"]
    expires = _parse(body["expires_at"])
    assert (
        before + timedelta(seconds=3590) <= expires <= datetime.now(UTC) + timedelta(seconds=3610)
    )


def test_flow_token_api_without_ttl_is_201(client) -> None:  # type: ignore[no-untyped-def]
    res = client.post(
        "/api/v1/flow-tokens", json={"flow": "lead_capture", "wa_id": "447700900112"}, headers=AUTH
    )
    assert res.status_code == 201
    assert _parse(res.get_json()["expires_at"]) > datetime.now(UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"flow": "no_such_flow", "wa_id": "447700900113"},
        {"wa_id": "447700900113"},
        {"flow": "appointment"},
        {"flow": "appointment", "wa_id": "447700900113", "ttl_seconds": "soon"},
        {"flow": "appointment", "wa_id": "447700900113", "ttl_seconds": 0},
    ],
)
def test_flow_token_api_bad_input_is_4xx_error_shape(client, body) -> None:  # type: ignore[no-untyped-def]
    res = client.post("/api/v1/flow-tokens", json=body, headers=AUTH)
    assert res.status_code in (400, 404, 422)
    assert_error_shape(res, res.status_code)


# --- contacts' window ------------------------------------------------------------------------

WINDOW_KEYS = {"wa_id", "window_open", "last_inbound_at", "expires_at", "closed_reason"}


def test_window_of_unknown_contact(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/contacts/15551234567/window", headers=AUTH)
    assert res.status_code == 200
    assert res.get_json() == {
        "wa_id": "15551234567",
        "window_open": False,
        "last_inbound_at": None,
        "expires_at": None,
        "closed_reason": "no_inbound_message",
    }


def _window(client, wa_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    res = client.get(f"/api/v1/contacts/{wa_id}/window", headers=AUTH)
    assert res.status_code == 200
    body = res.get_json()
    assert set(body) == WINDOW_KEYS
    return body


def test_window_open_after_text_message_expires_24h_later(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900201"
    sent = int(datetime.now(UTC).timestamp()) - 3600
    assert post_meta(client, text_message(wa_id, timestamp=sent)).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is True
    assert body["closed_reason"] is None
    inbound = _parse(body["last_inbound_at"])
    assert inbound == datetime.fromtimestamp(sent, UTC)
    assert _parse(body["expires_at"]) == inbound + timedelta(hours=24)


def test_window_expired(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900202"
    sent = int(datetime.now(UTC).timestamp()) - 30 * 3600
    assert post_meta(client, text_message(wa_id, timestamp=sent)).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is False
    assert body["closed_reason"] == "expired"
    assert _parse(body["expires_at"]) == datetime.fromtimestamp(sent, UTC) + timedelta(hours=24)


def test_nfm_reply_counts_as_inbound(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900203"
    sent = int(datetime.now(UTC).timestamp()) - 60
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    note = nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, timestamp=sent)
    assert post_meta(client, note).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is True
    assert _parse(body["last_inbound_at"]) == datetime.fromtimestamp(sent, UTC)


def test_131047_closes_with_re_engagement_error(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900204"
    sent = int(datetime.now(UTC).timestamp()) - 3600
    assert post_meta(client, text_message(wa_id, timestamp=sent)).status_code == 200
    assert post_meta(client, failed_status(wa_id, timestamp=sent + 60)).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is False
    assert body["closed_reason"] == "re_engagement_error"
    assert _parse(body["expires_at"]) == datetime.fromtimestamp(sent, UTC) + timedelta(hours=24)


def test_window_needs_token(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/contacts/15551234567/window")
    assert res.status_code in (401, 403)
    assert_error_shape(res, res.status_code)


# --- flows, openapi, healthz -----------------------------------------------------------------


def test_flows_list_envelope_and_one(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/flows", headers=AUTH)
    assert res.status_code == 200
    body = res.get_json()
    assert set(body) == {"items", "next_cursor"}
    names = {f["name"] for f in body["items"]}
    assert {"lead_capture", "appointment"} <= names
    one = client.get("/api/v1/flows/appointment", headers=AUTH)
    assert one.status_code == 200
    assert_error_shape(client.get("/api/v1/flows/no_such_flow", headers=AUTH), 404)


def test_openapi_needs_no_token_and_paths_are_absolute(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/openapi.json")
    assert res.status_code == 200
    doc = res.get_json()
    paths = doc["paths"]
    assert paths and all(p.startswith("/api/v1/") for p in paths), list(paths)
    for needed in (
        "/api/v1/submissions",
        "/api/v1/submissions.csv",
        "/api/v1/flow-tokens",
        "/api/v1/webhook-endpoints",
        "/api/v1/contacts/{wa_id}/window",
        "/api/v1/deliveries/{delivery_id}/retry",
    ):
        assert needed in paths, needed


def test_healthz_is_json(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.is_json and isinstance(res.get_json(), dict)


def test_messages_send_route_exists(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert any(p.startswith("/api/v1/messages") for p in paths)
    res = client.post("/api/v1/messages", json={}, headers=AUTH)
    assert res.status_code not in (404, 405)


def test_window_reopens_after_131047_on_a_new_inbound_message(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900205"
    now = int(datetime.now(UTC).timestamp())
    assert post_meta(client, text_message(wa_id, timestamp=now - 3600)).status_code == 200
    assert post_meta(client, failed_status(wa_id, timestamp=now - 3000)).status_code == 200
    assert _window(client, wa_id)["closed_reason"] == "re_engagement_error"
    assert post_meta(client, text_message(wa_id, timestamp=now - 2000)).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is True and body["closed_reason"] is None
    assert _parse(body["last_inbound_at"]) == datetime.fromtimestamp(now - 2000, UTC)


def test_late_older_message_does_not_move_the_window_back(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900206"
    now = int(datetime.now(UTC).timestamp())
    assert post_meta(client, text_message(wa_id, timestamp=now - 100)).status_code == 200
    assert post_meta(client, text_message(wa_id, timestamp=now - 50_000)).status_code == 200
    body = _window(client, wa_id)
    assert body["window_open"] is True
    assert _parse(body["last_inbound_at"]) == datetime.fromtimestamp(now - 100, UTC)


def test_every_time_in_api_answers_is_utc_with_z(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900207"
    now = int(datetime.now(UTC).timestamp())
    assert post_meta(client, text_message(wa_id, timestamp=now - 10)).status_code == 200
    _leads(client, 1, "4477003")
    made = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/t", "events": ["flow.submitted"]},
        headers=AUTH,
    )
    assert made.status_code == 201
    answers = [
        client.get("/api/v1/submissions", headers=AUTH).get_json(),
        client.get(f"/api/v1/contacts/{wa_id}/window", headers=AUTH).get_json(),
        client.get("/api/v1/webhook-endpoints", headers=AUTH).get_json(),
        client.get(
            f"/api/v1/webhook-endpoints/{made.get_json()['id']}/deliveries", headers=AUTH
        ).get_json(),
        issue_token(client, "lead_capture", wa_id),
    ]
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
            found.append(value)

    walk(answers)
    assert len(found) >= 5, found
    assert all(re.match(ISO_Z, value) for value in found), found


def test_healthz_reports_an_unreachable_database(settings, db) -> None:  # type: ignore[no-untyped-def]
    from app import create_app
    from tests.conftest import make_config

    broken = {**settings, "FLOWGATE_DATABASE_URL": "sqlite:////nonexistent-dir/x/flowgate.db"}
    res = create_app(make_config(broken)).test_client().get("/healthz")
    assert res.status_code == 503
    assert res.is_json and isinstance(res.get_json(), dict)


def test_since_until_honour_utc_offsets(client) -> None:  # type: ignore[no-untyped-def]
    _leads(client, 1, "4477004")
    now = datetime.now(UTC)
    plus2, minus5 = timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))

    def count(**query: str) -> int:
        res = client.get("/api/v1/submissions", query_string=query, headers=AUTH)
        assert res.status_code == 200
        return len(res.get_json()["items"])

    # naive readings of these local times would flip every answer
    assert count(until=(now - timedelta(hours=1)).astimezone(plus2).isoformat()) == 0
    assert count(since=(now - timedelta(hours=1)).astimezone(plus2).isoformat()) == 1
    assert count(since=(now + timedelta(hours=1)).astimezone(minus5).isoformat()) == 0
    assert count(until=(now + timedelta(hours=1)).astimezone(minus5).isoformat()) == 1


def test_openapi_is_3x(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/openapi.json").get_json()["openapi"].startswith("3.")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}},
        {"type": "button", "button": {"text": "Yes", "payload": "YES"}},
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}},
        },
        {"type": "location", "location": {"latitude": 1, "longitude": 2}},
    ],
    ids=["image", "button", "button_reply", "location"],
)
def test_every_inbound_user_message_counts(client, body) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700910001"
    sent = int(datetime.now(UTC).timestamp()) - 60
    note = text_message(wa_id, timestamp=sent)
    message = note["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update(body)
    assert post_meta(client, note).status_code == 200
    window = _window(client, wa_id)
    assert window["window_open"] is True
    assert _parse(window["last_inbound_at"]) == datetime.fromtimestamp(sent, UTC)
