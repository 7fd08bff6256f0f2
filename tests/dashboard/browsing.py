"""Helpers of the browser tests: sign in, post signed notifications, axe, screenshots, worker."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx

from app.crypto.signatures import hub_signature
from app.db import Database
from app.delivery.outcomes import OutcomePolicy
from app.delivery.schedule import RetryPolicy
from app.delivery.ssrf import parse_networks
from app.delivery.transport import AttemptSettings
from app.delivery.worker import Worker, WorkerSettings
from tests.conftest import API_TOKEN, APP_SECRET
from tests.dashboard.conftest import AXE_JS, SCREENSHOTS
from tests.leads.meta import nfm_reply, token_for

SERIOUS = {"serious", "critical"}


def sign_in(page: Any, base: str, token: str = API_TOKEN) -> None:
    page.goto(f"{base}/dashboard/login")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def notify(base: str, fields: dict[str, Any], *, wa_id: str, name: str, n: int) -> None:
    """POST a signed nfm_reply notification completing lead_capture, as Meta would."""
    payload = nfm_reply(
        fields,
        wa_id=wa_id,
        name=name,
        message_id=f"wamid.dash{n}",
        token=token_for(wa_id),
        timestamp=int(time.time()) - 60 * n,
    )
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": hub_signature(APP_SECRET, body),
    }
    response = httpx.post(f"{base}/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "processed"


def lead_fields(name: str, service: str, email: str | None = None) -> dict[str, str]:
    return {
        "name": name,
        "phone": "+55 11 91234-5678",
        "email": email or f"{name.split()[0].lower()}@example.com",
        "service": service,
        "preferred_date": "2026-12-01",
    }


def axe(page: Any, name: str) -> None:
    """Run axe-core on the page; fail on serious or critical violations."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document)")
    bad = [v for v in result["violations"] if v.get("impact") in SERIOUS]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in bad
    ]
    assert not bad, f"axe on {name}: " + "; ".join(details)


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)


def run_worker(db: Database, max_seconds: float = 20) -> None:
    """Deliver until nothing is pending: 3 attempts 0.2 s apart, loopback allowed."""
    settings = WorkerSettings(
        concurrency=2,
        lease_seconds=3.0,
        poll_interval=0.05,
        attempt=AttemptSettings(
            connect_timeout=0.5, deadline=1.0, allow=parse_networks(["127.0.0.1/32"])
        ),
        outcome=OutcomePolicy(RetryPolicy(schedule=(0, 0.2, 0.2), throttle_floor=0.3)),
    )
    Worker(db, settings).run(drain=True, max_seconds=max_seconds)
