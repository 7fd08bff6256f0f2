"""GET /metrics in one process: who may scrape, and values after known traffic."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.leads.meta import LEAD, nfm_reply, post, token_for

FLOW = "appointment"


def value(client: FlaskClient, name: str, **labels: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_open_to_internal_addresses_only_without_a_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # 127.0.0.1
    inside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 403
    assert outside.get_json()["error"]["code"] == "forbidden"


def test_a_token_is_required_from_everyone_once_set(variant) -> None:  # type: ignore[no-untyped-def]
    client = variant(FLOWGATE_METRICS_TOKEN="s3cret-metrics").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = client.get(
        "/metrics",
        headers={"Authorization": "Bearer s3cret-metrics"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert good.status_code == 200
    assert good.headers["Content-Type"].startswith("text/plain; version=")
    assert b"s3cret" not in good.data


def test_values_follow_known_traffic(app: Flask, client: FlaskClient, wa) -> None:  # type: ignore[no-untyped-def]
    labels = {"flow": FLOW, "action": "ping", "status": "200"}
    before = value(client, "flowgate_endpoint_requests_total", **labels)
    notes = value(client, "flowgate_notifications_total", result="rejected")
    for _ in range(4):
        wa(FLOW).ping()
    assert value(client, "flowgate_endpoint_requests_total", **labels) == before + 4
    post(client, {"object": "whatsapp_business_account", "entry": []}, secret="wrong")
    assert value(client, "flowgate_notifications_total", result="rejected") == notes + 1
    assert value(client, "flowgate_deliveries_pending") == 0


def test_leads_are_counted_once_each(client: FlaskClient) -> None:
    valid = {"flow": "lead_capture", "source": "webhook", "status": "valid"}
    invalid = {**valid, "status": "invalid"}
    before = value(client, "flowgate_leads_total", **valid)
    before_invalid = value(client, "flowgate_leads_total", **invalid)
    wa_id = "5511912345678"
    notification = nfm_reply(LEAD, wa_id=wa_id, token=token_for(wa_id), message_id="wamid.m1")
    assert post(client, notification).status_code == 200
    assert post(client, notification).status_code == 200  # Meta re-delivers: not a new lead
    bad = nfm_reply({"name": ""}, wa_id=wa_id, token=token_for(wa_id), message_id="wamid.m2")
    assert post(client, bad).status_code == 200
    assert value(client, "flowgate_leads_total", **valid) == before + 1
    assert value(client, "flowgate_leads_total", **invalid) == before_invalid + 1
    assert value(client, "flowgate_notifications_total", result="duplicate") >= 1
