"""docs/contract.md "HTTP surface" and "Contract details": Meta's handshake, signed notifications,
leads visible right after the 200, the wa_id binding of flow tokens, NUL stripping."""

from __future__ import annotations

import re
import time

import pytest

from tests.contract.wire import AUTH, ISO_Z, LEAD_FIELDS, issue_token, nfm_reply, post_meta

SUBMISSION_KEYS = {
    "id",
    "flow",
    "wa_id",
    "contact_name",
    "flow_token",
    "source",
    "status",
    "fields",
    "errors",
    "submitted_at",
}


def test_handshake_echoes_challenge_as_plain_text(client) -> None:  # type: ignore[no-untyped-def]
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "test-verify-token",
        "hub.challenge": "1158201444",
    }
    res = client.get("/webhooks/whatsapp", query_string=query)
    assert res.status_code == 200
    assert res.get_data(as_text=True) == "1158201444"
    assert res.mimetype == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
        {},
    ],
)
def test_handshake_refused_with_403(client, query) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/webhooks/whatsapp", query_string=query)
    assert res.status_code == 403
    assert res.get_data(as_text=True) != "1"


def test_notification_without_signature_is_401_and_stores_nothing(client) -> None:  # type: ignore[no-untyped-def]
    res = post_meta(client, nfm_reply("15550001", dict(LEAD_FIELDS)), signature=None)
    assert res.status_code == 401
    listed = client.get("/api/v1/submissions", headers=AUTH).get_json()
    assert listed["items"] == []


@pytest.mark.parametrize("header", ["sha256=" + "0" * 64, "sha256=", "garbage"])
def test_notification_with_wrong_signature_is_403_and_stores_nothing(client, header) -> None:  # type: ignore[no-untyped-def]
    res = post_meta(client, nfm_reply("15550001", dict(LEAD_FIELDS)), signature=header)
    assert res.status_code == 403
    assert client.get("/api/v1/submissions", headers=AUTH).get_json()["items"] == []


def test_lead_visible_through_api_right_after_200(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900001"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    res = post_meta(client, nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, name="Ada"))
    assert res.status_code == 200
    page = client.get("/api/v1/submissions", query_string={"wa_id": wa_id}, headers=AUTH)
    assert page.status_code == 200
    items = page.get_json()["items"]
    assert len(items) == 1
    item = items[0]
    assert set(item) == SUBMISSION_KEYS
    assert item["flow"] == "lead_capture"
    assert item["wa_id"] == wa_id
    assert item["contact_name"] == "Ada"
    assert item["flow_token"] == token
    assert item["source"] == "webhook"
    assert item["status"] == "valid"
    assert item["fields"] == LEAD_FIELDS
    assert re.match(ISO_Z, item["submitted_at"]), item["submitted_at"]
    one = client.get(f"/api/v1/submissions/{item['id']}", headers=AUTH)
    assert one.status_code == 200 and one.get_json() == item


def test_same_notification_twice_is_one_lead(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900002"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    note = nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, wamid="wamid.SAME")
    assert post_meta(client, note).status_code == 200
    assert post_meta(client, note).status_code == 200
    items = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert len(items) == 1


def test_token_of_another_wa_id_stores_invalid_with_error(client) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(client, "lead_capture", "447700900003")["flow_token"]
    sender = "447700900004"
    res = post_meta(client, nfm_reply(sender, {"flow_token": token, **LEAD_FIELDS}))
    assert res.status_code == 200
    items = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert len(items) == 1
    assert items[0]["status"] == "invalid"
    assert items[0]["errors"], items[0]
    assert items[0]["wa_id"] == sender


def test_nul_characters_removed_on_intake(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900005"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    fields = {**LEAD_FIELDS, "name": "Ad\x00a Love\x00lace"}
    note = nfm_reply(wa_id, {"flow_token": token, **fields}, name="A\x00da")
    assert post_meta(client, note).status_code == 200
    item = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"][0]
    assert item["fields"]["name"] == "Ada Lovelace"
    assert item["contact_name"] == "Ada"


def test_unsigned_garbage_never_500(client) -> None:  # type: ignore[no-untyped-def]
    for body in (b"", b"{", b"[]", b"\xff"):
        res = client.post("/webhooks/whatsapp", data=body)
        assert res.status_code in (400, 401, 403), res.status_code


def test_signed_garbage_never_500(client) -> None:  # type: ignore[no-untyped-def]
    from tests.contract.wire import hub_signature

    for body in (b"{", b"[]", b'{"object": 1}', b'{"entry": "x"}'):
        res = client.post(
            "/webhooks/whatsapp",
            data=body,
            headers={"X-Hub-Signature-256": hub_signature(body)},
        )
        assert res.status_code < 500, (body, res.status_code)


def test_signature_checked_on_raw_body(client) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.contract.wire import hub_signature

    wa_id = "447700900006"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    note = nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, name="Ada")
    raw = json.dumps(note, indent=3).replace('"Ada"', '"\\u0041da"').encode()
    compact = json.dumps(note).encode()
    wrong = client.post(
        "/webhooks/whatsapp", data=raw, headers={"X-Hub-Signature-256": hub_signature(compact)}
    )
    assert wrong.status_code == 403
    res = client.post(
        "/webhooks/whatsapp", data=raw, headers={"X-Hub-Signature-256": hub_signature(raw)}
    )
    assert res.status_code == 200
    items = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert [i["contact_name"] for i in items] == ["Ada"]


def test_statuses_and_flow_alerts_are_acknowledged_without_leads(client) -> None:  # type: ignore[no-untyped-def]
    from tests.contract.wire import envelope

    status = envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "111"},
            "statuses": [
                {
                    "id": "wamid.S1",
                    "status": "delivered",
                    "timestamp": "1764115200",
                    "recipient_id": "447700900007",
                }
            ],
        }
    )
    alert = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA1",
                "changes": [
                    {
                        "field": "flows",
                        "value": {
                            "event": "ENDPOINT_ERROR_RATE",
                            "flow_id": "123",
                            "message": "error rate high",
                            "alert_state": "ACTIVATED",
                            "error_rate": 12,
                            "threshold": 10,
                        },
                    }
                ],
            }
        ],
    }
    assert post_meta(client, status).status_code == 200
    assert post_meta(client, alert).status_code == 200
    assert client.get("/api/v1/submissions", headers=AUTH).get_json()["items"] == []


def test_expired_token_reply_still_becomes_a_lead(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700906100"
    token = issue_token(client, "lead_capture", wa_id, ttl=1)["flow_token"]
    time.sleep(2.1)  # expires_at is whole seconds: stay clear of the edge
    assert (
        post_meta(client, nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS})).status_code == 200
    )
    items = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert [(i["wa_id"], i["flow"]) for i in items] == [(wa_id, "lead_capture")]


def test_concurrent_duplicate_notifications_make_one_lead(app, client) -> None:  # type: ignore[no-untyped-def]
    """Meta delivers at least once, sometimes in parallel: never a duplicated lead."""
    import threading

    for round_ in range(4):
        wa_id = f"4477009060{round_:02d}"
        token = issue_token(client, "lead_capture", wa_id)["flow_token"]
        note = nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS}, wamid=f"wamid.R{round_}")
        codes: list[int] = []

        def send(note: dict = note, codes: list[int] = codes) -> None:  # type: ignore[type-arg]
            codes.append(post_meta(app.test_client(), note).status_code)

        threads = [threading.Thread(target=send) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert codes == [200, 200, 200]
        query = {"wa_id": wa_id}
        items = client.get("/api/v1/submissions", query_string=query, headers=AUTH).get_json()
        assert len(items["items"]) == 1
