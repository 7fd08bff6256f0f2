"""The dashboard over HTTP without a browser: sign-in, cookie flags, CSRF, every page renders.

Browser behaviour (filters, downloads, replays, axe) is in test_browser.py.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from app.db import Database
from app.models import Submission
from tests.conftest import API_TOKEN

PAGES = [
    "/dashboard/leads",
    "/dashboard/contacts",
    "/dashboard/webhooks",
    "/dashboard/flows",
    "/dashboard/inbox",
    "/dashboard/messages",
]


def csrf(client: FlaskClient, path: str = "/dashboard/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def sign_in(client: FlaskClient, token: str = API_TOKEN) -> object:
    return client.post("/dashboard/login", data={"token": token, "csrf_token": csrf(client)})


def test_pages_need_sign_in(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/dashboard/login?next=")


def test_wrong_token_refused_right_one_signs_in(client: FlaskClient) -> None:
    refused = sign_in(client, "not-the-token")
    assert refused.status_code == 401
    assert "not one of this server" in refused.get_data(as_text=True)
    assert client.get("/dashboard/leads").status_code == 303
    ok = sign_in(client)
    assert ok.status_code == 303
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    assert API_TOKEN not in cookie
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_cookie_secure_behind_https(client: FlaskClient) -> None:
    page = client.get("/dashboard/login", base_url="https://flowgate.example")
    assert "Secure" in page.headers["Set-Cookie"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    response = client.post(
        "/dashboard/login",
        data={"token": API_TOKEN, "csrf_token": token},
        base_url="https://flowgate.example",
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_post_without_csrf_refused(client: FlaskClient) -> None:
    assert client.post("/dashboard/login", data={"token": API_TOKEN}).status_code == 400
    sign_in(client)
    response = client.post("/dashboard/inbox/reprocess", data={})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.post("/dashboard/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/dashboard/leads").status_code == 200  # still signed in


def test_sign_out_ends_session(client: FlaskClient) -> None:
    sign_in(client)
    token = csrf(client, "/dashboard/leads")
    assert client.post("/dashboard/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/dashboard/leads").status_code == 303


def test_removed_token_ends_session(client: FlaskClient, app: object) -> None:
    sign_in(client)
    runtime = client.application.extensions["flowgate"]
    config = runtime.config
    from dataclasses import replace

    runtime.config = replace(config, api_tokens=("another-token",))
    try:
        assert client.get("/dashboard/leads").status_code == 303
    finally:
        runtime.config = config


def test_unknown_lead_is_an_html_404(client: FlaskClient) -> None:
    sign_in(client)
    response = client.get("/dashboard/leads/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_bad_cursor_and_dates_are_clear_errors(client: FlaskClient, db: Database) -> None:
    sign_in(client)
    bad = client.get("/dashboard/leads?cursor=zzz")
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    page = client.get("/dashboard/leads?since=yesterday").get_data(as_text=True)
    assert "must be a date" in page
    assert client.get("/dashboard/leads.csv?since=yesterday").status_code == 400


def test_open_redirect_refused(client: FlaskClient) -> None:
    token = csrf(client)
    response = client.post(
        "/dashboard/login",
        data={"token": API_TOKEN, "csrf_token": token, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/dashboard/leads"


def test_headers(client: FlaskClient) -> None:
    sign_in(client)
    response = client.get("/dashboard/leads")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert Submission  # the model the leads page reads


def test_token_never_logged(client: FlaskClient, caplog: object) -> None:
    import logging

    caplog.set_level(logging.DEBUG)  # type: ignore[attr-defined]
    sign_in(client, "wrong-" + API_TOKEN)
    sign_in(client)
    client.get("/dashboard/leads")
    text = "\n".join(r.getMessage() for r in caplog.records)  # type: ignore[attr-defined]
    assert "sign-in refused" in text and "sign-in from" in text
    assert API_TOKEN not in text


def test_inbox_reprocess_processes_a_failed_notification(client: FlaskClient, db: Database) -> None:
    import hashlib
    import json

    from app.models import Contact, InboundNotification
    from tests.leads.meta import T0, text_message

    body = json.dumps(text_message("5511955550000", "wamid.inbox1", T0, name="Ines")).encode()
    with db.transaction() as session:
        row = InboundNotification(
            body=body,
            body_sha256=hashlib.sha256(body).hexdigest(),
            status="failed",
            error="database error OperationalError",
        )
        session.add(row)
        session.flush()
        row_id = row.id
    sign_in(client)
    page = client.get("/dashboard/inbox").get_data(as_text=True)
    assert row_id in page and "database error OperationalError" in page
    token = csrf(client, "/dashboard/inbox")
    answer = client.post("/dashboard/inbox/reprocess", data={"csrf_token": token, "id": row_id})
    assert answer.status_code == 303
    with db.session() as session:
        assert session.get(InboundNotification, row_id).status == "processed"
        assert session.get(Contact, "5511955550000").profile_name == "Ines"
    assert "Reprocessed 1: 1 processed" in client.get("/dashboard/inbox").get_data(as_text=True)


def test_endpoint_actions(client: FlaskClient, db: Database) -> None:
    from app.delivery.ssrf import parse_networks
    from app.delivery.subscriptions import Guard, create_endpoint
    from app.models import Delivery, WebhookEndpoint

    with db.transaction() as session:
        endpoint = create_endpoint(
            session,
            "http://127.0.0.1:9/h",
            None,
            guard=Guard(allow=parse_networks(["127.0.0.1/32"])),
        )
        endpoint_id, old_secret = endpoint.id, endpoint.secret
    sign_in(client)
    base = f"/dashboard/webhooks/{endpoint_id}"
    token = csrf(client, base)
    assert client.post(f"{base}/disable", data={"csrf_token": token}).status_code == 303
    assert "disabled by an operator" in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/enable", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{base}/test", data={"csrf_token": token}).status_code == 303
    rotated = client.post(f"{base}/rotate-secret", data={"csrf_token": token})
    page = rotated.get_data(as_text=True)
    with db.session() as session:
        stored = session.get(WebhookEndpoint, endpoint_id)
        assert stored.enabled and stored.secret != old_secret
        assert [d.event_type for d in session.query(Delivery)] == ["webhook.test"]
    assert rotated.status_code == 200 and stored.secret in page
    assert rotated.headers["Cache-Control"] == "no-store"
    assert stored.secret not in client.get(base).get_data(as_text=True)  # shown once
    missing = client.post("/dashboard/webhooks/nope/disable", data={"csrf_token": token})
    assert missing.status_code == 404 and missing.mimetype == "text/html"
