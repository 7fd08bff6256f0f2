"""The dashboard in headless Chromium, against the real app served on loopback.

Every test runs on SQLite and PostgreSQL. Notifications are signed and posted over HTTP as
Meta would; webhook deliveries go to a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from standardwebhooks import Webhook

from app import clock
from app.db import Database
from app.delivery.ssrf import parse_networks
from app.delivery.subscriptions import Guard, create_endpoint
from app.models import InboundNotification, Submission
from tests.dashboard.browsing import axe, lead_fields, notify, run_worker, shoot, sign_in
from tests.dashboard.conftest import Live
from tests.delivery.receiver import Receiver, Reply

GUARD = Guard(allow=parse_networks(["127.0.0.1/32"]))


def test_sign_in_refuses_wrong_token_and_sets_a_safe_cookie(live: Live, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/dashboard/leads")
    assert page.url.startswith(f"{live.url}/dashboard/login")
    sign_in(page, live.url, token="wrong-token")
    assert page.get_by_role("alert").inner_text().startswith("That token is not")
    assert "/dashboard/login" in page.url
    sign_in(page, live.url)
    assert page.url == f"{live.url}/dashboard/leads"
    assert page.get_by_role("heading", name="Leads").is_visible()
    assert "token" not in page.url
    (cookie,) = [c for c in context.cookies() if c["name"] == "flowgate_dashboard"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain HTTP on loopback; Secure behind HTTPS
    assert cookie["path"] == "/dashboard"
    page.get_by_role("button", name="Sign out").click()
    assert "/dashboard/login" in page.url
    page.goto(f"{live.url}/dashboard/leads")
    assert "/dashboard/login" in page.url
    context.close()


def test_leads_arrive_filter_download_and_open(live: Live, browser: Any) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, live.url)
    assert page.get_by_text("No leads yet.").is_visible()
    notify(
        live.url, lead_fields("Ana Souza", "installation"), wa_id="5511900000001", name="Ana", n=1
    )
    notify(
        live.url, lead_fields("Bruno Lima", "maintenance"), wa_id="5511900000002", name="Bruno", n=2
    )
    notify(
        live.url,
        lead_fields("Carla Dias", "consultation", email="not-an-email"),
        wa_id="5511900000003",
        name="Carla",
        n=3,
    )
    page.reload()
    rows = page.locator("#lead-list tbody tr")
    assert rows.count() == 3
    assert "Ana Souza" in rows.nth(0).inner_text()  # newest first

    page.get_by_label("Status").select_option("invalid")
    page.get_by_role("button", name="Filter").click()
    assert rows.count() == 1 and "Carla" in rows.nth(0).inner_text()

    page.get_by_label("Status").select_option("all")
    page.get_by_label("Search").fill("MAINT")  # a field value, any case
    page.get_by_role("button", name="Filter").click()
    assert rows.count() == 1 and "Bruno" in rows.nth(0).inner_text()
    assert "q=MAINT" in page.url

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV of this filter").click()
    with open(info.value.path(), encoding="utf-8") as downloaded:
        text = downloaded.read()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in table] == ["Bruno Lima"]
    assert table[0]["service"] == "maintenance"

    page.get_by_label("Search").fill("5511900000001")  # a wa_id
    page.get_by_role("button", name="Filter").click()
    assert rows.count() == 1
    rows.nth(0).get_by_role("link").click()
    assert page.get_by_role("heading", name="Ana").is_visible()
    answers = page.locator("dl.fields")
    assert "Service wanted" in answers.inner_text()
    assert "Installation" in answers.inner_text()  # the title the customer saw, not only the id
    assert "Full name" in answers.inner_text()
    shoot(page, "lead-desktop")
    context.close()


def test_failed_delivery_replayed_to_success(live: Live, browser: Any, db: Database) -> None:
    healthy = {"on": False}
    receiver = Receiver(lambda _n, _r: Reply(200 if healthy["on"] else 500, body=b"nope"))
    try:
        with db.transaction() as session:
            endpoint = create_endpoint(session, receiver.url, None, guard=GUARD)
            endpoint_id, secret = endpoint.id, endpoint.secret
        notify(live.url, lead_fields("Dora Reis", "other"), wa_id="5511900000004", name="Dora", n=1)
        run_worker(db)
        assert len(receiver.requests) == 3  # the whole (test) schedule, all refused

        page = browser.new_page()
        sign_in(page, live.url)
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Webhooks").click()
        card = page.locator("article.endpoint")
        assert "1 failed" in " ".join(card.inner_text().split())
        page.get_by_role("link", name="Deliveries").click()
        assert page.locator("tbody .badge-failed").count() == 1
        assert "HTTP 500" in page.locator("tbody").inner_text()

        healthy["on"] = True
        page.get_by_role("button", name="Replay all 1 failed").click()
        assert "1 failed delivery queued again" in page.get_by_role("status").inner_text()
        run_worker(db)
        page.reload()
        assert page.locator("tbody .badge-delivered").count() == 1
        assert len(receiver.requests) == 4
        last = receiver.requests[-1]
        event = Webhook(secret).verify(last.body, last.headers)
        assert event["data"]["contact_name"] == "Dora"
        assert (
            receiver.requests[-1].headers["webhook-id"]
            == receiver.requests[0].headers["webhook-id"]
        )  # the same event replayed
        assert endpoint_id in page.url
        page.close()
    finally:
        receiver.close()


def test_form_post_without_csrf_token_is_refused(live: Live, browser: Any) -> None:
    page = browser.new_page()
    sign_in(page, live.url)
    page.evaluate("document.querySelector('form.signout input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", name="This form has expired").is_visible()
    page.goto(f"{live.url}/dashboard/leads")
    assert page.get_by_role("heading", name="Leads").is_visible()  # still signed in
    page.close()


def test_flows_page_shows_a_broken_flows_finding(live: Live, browser: Any) -> None:
    page = browser.new_page()
    sign_in(page, live.url)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Flows").click()
    card = page.locator("article", has=page.get_by_role("heading", name="broken"))
    text = card.inner_text()
    assert "not served" in text
    assert "INVALID_ON_CLICK_ACTION_PAYLOAD" in text
    assert "broken.json:13:45" in text
    assert "${form.nmae}" in text
    lead_card = page.locator("article", has=page.get_by_role("heading", name="lead_capture"))
    assert "served" in lead_card.inner_text() and "not served" not in lead_card.inner_text()
    assert "BEGIN PUBLIC KEY" in page.get_by_label("Public key (PEM)").input_value()
    page.close()


def _seed(live: Live, db: Database, receiver: Receiver) -> dict[str, str]:
    """Something on every page: leads, contacts, an endpoint and its deliveries, inbox rows."""
    notify(
        live.url, lead_fields("Ana Souza", "installation"), wa_id="5511900000001", name="Ana", n=1
    )
    notify(
        live.url,
        lead_fields("Carla Dias", "consultation", email="nope"),
        wa_id="5511900000003",
        name="Carla",
        n=30,
    )
    with db.transaction() as session:
        endpoint = create_endpoint(session, receiver.url, None, guard=GUARD, description="CRM")
        session.add(
            InboundNotification(
                body=b"{}", body_sha256="0" * 64, status="failed", error="database error"
            )
        )
        session.add(
            Submission(
                flow="unknown_flow",
                wa_id="5511900000009",
                contact_name="Eva",
                source="webhook",
                status="unrouted",
                fields={"answer": "yes"},
                dedup_key="message:wamid.unrouted",
                submitted_at=clock.now() - timedelta(days=2),
            )
        )
        endpoint_id = endpoint.id
    notify(
        live.url, lead_fields("Bruno Lima", "maintenance"), wa_id="5511900000002", name="Bruno", n=2
    )
    run_worker(db)
    with db.session() as session:
        lead_id = session.query(Submission.id).filter(Submission.contact_name == "Bruno").scalar()
    return {"endpoint": endpoint_id, "lead": lead_id}


def test_every_page_without_javascript_and_with_axe(
    live: Live, browser: Any, db: Database, database_url: str
) -> None:
    # The markup does not depend on the database: axe and screenshots run once (SQLite), the
    # page walks with and without JavaScript on both.
    checked = database_url.startswith("sqlite")
    receiver = Receiver(lambda n, _r: Reply(500 if n == 1 else 200))
    try:
        ids = _seed(live, db, receiver)
        pages = {
            "leads": "/dashboard/leads",
            "lead": f"/dashboard/leads/{ids['lead']}",
            "contacts": "/dashboard/contacts",
            "webhooks": "/dashboard/webhooks",
            "endpoint": f"/dashboard/webhooks/{ids['endpoint']}",
            "flows": "/dashboard/flows",
            "inbox": "/dashboard/inbox",
            "messages": "/dashboard/messages",
            "not-found": "/dashboard/leads/no-such-lead",
        }
        for javascript in (False, True):
            context = browser.new_context(
                java_script_enabled=javascript,
                bypass_csp=True,
                viewport={"width": 1280, "height": 800},
            )
            page = context.new_page()
            page.goto(f"{live.url}/dashboard/login")
            if javascript and checked:
                axe(page, "login")
                shoot(page, "login")
            sign_in(page, live.url)
            for name, path in pages.items():
                response = page.goto(live.url + path)
                assert response is not None
                assert response.status == (404 if name == "not-found" else 200), name
                assert page.locator("h1").first.is_visible(), name
                times = page.locator("main time")
                if times.count():
                    shown = times.first.inner_text()
                    # Without JavaScript times read in UTC; with it, in the viewer's zone.
                    assert shown.endswith("UTC") != javascript, (name, shown)
                    assert times.first.get_attribute("title").endswith("UTC")
                if javascript and checked:
                    axe(page, name)
                    shoot(page, name)
            page.goto(live.url + pages["endpoint"])
            page.get_by_role("button", name="Rotate secret").click()
            secret = page.get_by_label("Secret").input_value()
            assert secret.startswith("whsec_")
            if javascript and checked:
                axe(page, "secret")
                shoot(page, "secret")
            page.goto(live.url + pages["inbox"])
            assert page.get_by_text("database error").is_visible()
            assert page.get_by_text("Eva").is_visible()
            context.close()

        if not checked:
            return
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = phone.new_page()
        sign_in(page, live.url)
        shoot(page, "leads-phone")
        page.goto(live.url + pages["lead"])
        shoot(page, "lead-phone")
        page.goto(live.url + pages["contacts"])
        assert page.get_by_text("Open windows").is_visible()
        shoot(page, "contacts-phone")
        phone.close()
    finally:
        receiver.close()
