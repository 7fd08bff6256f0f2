"""POST /api/v1/messages with fallback_template and send_at, GET/DELETE a message, links."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from app import clock
from tests.automations.conftest import AT, WA, drain, inbound, sends
from tests.conftest import API_TOKEN
from tests.leads.meta import post, status

API = {"Authorization": f"Bearer {API_TOKEN}"}
FALLBACK = {"name": "follow_up", "language": "en_US"}
EXPIRES = AT + timedelta(hours=24)


def test_fallback_template_goes_when_the_window_is_closed(web, cloud) -> None:
    clock.set_now(AT)
    body = {"wa_id": WA, "type": "text", "text": "Hi", "fallback_template": FALLBACK}
    answer = web.post("/api/v1/messages", json=body, headers=API)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["sent_as"] == "template" and answer.get_json()["type"] == "text"
    assert cloud.bodies()[0]["template"] == {"name": "follow_up", "language": {"code": "en_US"}}
    without = web.post("/api/v1/messages", json={**body, "fallback_template": None}, headers=API)
    assert without.status_code in (400, 409)


def test_fallback_template_unused_inside_the_window(web, cloud) -> None:
    inbound(web, "hello")
    body = {"wa_id": WA, "type": "text", "text": "Hi", "fallback_template": FALLBACK}
    answer = web.post("/api/v1/messages", json=body, headers=API).get_json()
    assert answer["sent_as"] == "text" and cloud.bodies()[0]["type"] == "text"


def test_fallback_template_only_for_free_form(web, cloud) -> None:
    body = {"wa_id": WA, "type": "template", "template": FALLBACK, "fallback_template": FALLBACK}
    answer = web.post("/api/v1/messages", json=body, headers=API)
    assert (
        answer.status_code == 400 and "fallback_template" in answer.get_json()["error"]["details"]
    )
    assert cloud.requests == []


def test_send_at_is_sent_when_due_and_the_window_is_checked_then(
    web, db, cloud, make_runner
) -> None:
    inbound(web, "hello")
    later = (AT + timedelta(hours=30)).isoformat()
    body = {"wa_id": WA, "type": "text", "text": "Reminder", "send_at": later}
    scheduled = web.post("/api/v1/messages", json=body, headers=API)
    assert scheduled.status_code == 202, scheduled.get_json()
    data = scheduled.get_json()
    assert data["status"] == "pending" and data["send_at"] == "2026-09-22T20:13:20Z"
    with_fallback = web.post(
        "/api/v1/messages", json={**body, "fallback_template": FALLBACK}, headers=API
    ).get_json()
    drain(make_runner)
    assert cloud.requests == []  # not due yet
    clock.set_now(AT + timedelta(hours=30))
    drain(make_runner)
    first = web.get(f"/api/v1/messages/{data['id']}", headers=API).get_json()
    assert first["status"] == "skipped" and "window closed" in first["error"]
    second = web.get(f"/api/v1/messages/{with_fallback['id']}", headers=API).get_json()
    assert (second["status"], second["sent_as"]) == ("sent", "template")
    assert [b["type"] for b in cloud.bodies()] == ["template"]


def test_delete_cancels_a_pending_message_only(web, db, cloud, make_runner) -> None:
    inbound(web, "hello")
    body = {
        "wa_id": WA,
        "type": "text",
        "text": "Later",
        "send_at": (AT + timedelta(hours=1)).isoformat(),
    }
    one = web.post("/api/v1/messages", json=body, headers=API).get_json()
    two = web.post("/api/v1/messages", json=body, headers=API).get_json()
    gone = web.delete(f"/api/v1/messages/{one['id']}", headers=API)
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    assert web.delete(f"/api/v1/messages/{one['id']}", headers=API).status_code == 409
    assert web.delete("/api/v1/messages/nope", headers=API).status_code == 404
    clock.set_now(AT + timedelta(hours=1, seconds=1))
    drain(make_runner)
    assert len(cloud.requests) == 1
    late = web.delete(f"/api/v1/messages/{two['id']}", headers=API)
    assert late.status_code == 409 and late.get_json()["error"]["details"]["status"] == "sent"


def test_statuses_from_meta_update_the_send(web, db, cloud, make_runner) -> None:
    inbound(web, "open?")
    drain(make_runner)
    [send] = sends(db)
    stamp = int((AT + timedelta(minutes=1)).timestamp())
    assert post(web, status(send.wamid, WA, "delivered", stamp)).status_code == 200
    assert post(web, status(send.wamid, WA, "read", stamp + 5)).status_code == 200
    shown = web.get(f"/api/v1/messages/{send.id}", headers=API).get_json()
    assert (shown["status"], shown["meta_status"], shown["wamid"]) == ("sent", "read", send.wamid)


def test_links_api_gives_a_wa_me_link_and_qr_codes(web) -> None:
    answer = web.post(
        "/api/v1/links", json={"text": "I want a quote", "ref": "spring-24"}, headers=API
    )
    assert answer.status_code == 201, answer.get_json()
    link = answer.get_json()
    url = urlparse(link["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/5511999990000")
    assert parse_qs(url.query)["text"] == ["I want a quote (ref: spring-24)"]
    assert link["qr_svg"].startswith("<svg") and link["ref"] == "spring-24"
    assert base64.b64decode(link["qr_png_base64"]).startswith(b"\x89PNG\r\n\x1a\n")
    bad = web.post("/api/v1/links", json={"text": "x", "ref": "no spaces"}, headers=API)
    assert bad.status_code == 400 and "ref" in bad.get_json()["error"]["details"]


def test_links_cli_prints_the_link_and_writes_qr_files(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWGATE_BUSINESS_NUMBER", "+55 11 99999-0000")
    png, svg = tmp_path / "q.png", tmp_path / "q.svg"
    result = runner.invoke(
        ["links", "create", "--text", "Hola", "--ref", "fair", "--png", str(png), "--svg", str(svg)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "https://wa.me/5511999990000?text=Hola%20%28ref%3A%20fair%29"
    assert png.read_bytes().startswith(b"\x89PNG") and "<svg" in svg.read_text()
    missing = runner.invoke(["links", "create", "--text", "x", "--number", "12"])
    assert missing.exit_code != 0 and "number" in missing.output


def test_openapi_documents_scheduling_cancel_and_links(web) -> None:
    paths = web.get("/api/v1/openapi.json").get_json()["paths"]
    send = paths["/api/v1/messages"]["post"]
    assert {"201", "202", "409"} <= set(send["responses"])
    body = send["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/MessageRequest"}
    one = paths["/api/v1/messages/{message_id}"]
    assert {"get", "delete"} <= set(one) and "409" in one["delete"]["responses"]
    assert "201" in paths["/api/v1/links"]["post"]["responses"]
