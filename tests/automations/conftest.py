"""Fixtures for automations: the fake Cloud API, a rules file, an app that sends, a runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import clock, create_app
from app.automations.runner import AutomationRunner, RunnerSettings
from app.db import Database
from app.models import MessageSend
from tests.automations.fake_cloud import FakeCloud
from tests.conftest import make_config
from tests.leads.meta import T0, messages_change, post

ACCESS_TOKEN = "EAAG-test-graph-access-token-never-logged"
PHONE_NUMBER_ID = "106540352242922"
WA = "5511912345678"
AT = datetime.fromtimestamp(T0, UTC)

HOURS_RULE = {
    "name": "hours",
    "on": "message.received",
    "when": {"keywords": ["hours", "open"]},
    "send": {"type": "text", "text": "Hi {contact_name}, we open at 9."},
}
CONFIRM_RULE = {
    "name": "confirm",
    "on": "flow.submitted",
    "when": {"flow": "lead_capture"},
    "send": {"type": "text", "text": "Thanks {contact_name}, see you on {fields.preferred_date}."},
}


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud() as fake:
        yield fake


@pytest.fixture
def rules_file(tmp_path: Path) -> Callable[..., Path]:
    path = tmp_path / "automations.json"

    def write(*rules: dict[str, Any]) -> Path:
        """Write these rules (none given: keep the file as it is); returns its path."""
        if rules:
            path.write_text(json.dumps({"rules": list(rules)}, indent=2))
        return path

    write(HOURS_RULE, CONFIRM_RULE)
    return write


@pytest.fixture
def auto_settings(
    settings: dict[str, str], cloud: FakeCloud, rules_file: Callable[..., Path]
) -> dict[str, str]:
    return {
        **settings,
        "FLOWGATE_GRAPH_API_URL": cloud.url,
        "FLOWGATE_ACCESS_TOKEN": ACCESS_TOKEN,
        "FLOWGATE_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "FLOWGATE_AUTOMATIONS_FILE": str(rules_file()),
        "FLOWGATE_BUSINESS_NUMBER": "5511999990000",
    }


@pytest.fixture
def auto_app(auto_settings: dict[str, str], db: Database) -> Iterator[Flask]:
    application = create_app(make_config(auto_settings))
    yield application
    application.extensions["flowgate"].db.dispose()


@pytest.fixture
def web(auto_app: Flask) -> FlaskClient:
    return auto_app.test_client()


@pytest.fixture
def make_runner(auto_settings: dict[str, str], db: Database) -> Callable[..., AutomationRunner]:
    def build(**overrides: Any) -> AutomationRunner:
        settings = RunnerSettings(**{"lease_seconds": 30.0, **overrides})
        return AutomationRunner(db, make_config(auto_settings), settings=settings)

    return build


def drain(make_runner: Callable[..., AutomationRunner], **overrides: Any) -> AutomationRunner:
    runner = make_runner(**overrides)
    runner.run(drain=True)
    return runner


def inbound(
    client: FlaskClient,
    text: str,
    *,
    wa_id: str = WA,
    message_id: str = "wamid.in1",
    at: datetime = AT,
    name: str = "Ana",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The user writes `text` at `at` (a signed webhook); the clock stands at `at` + 1 s."""
    clock.set_now(at + timedelta(seconds=1))
    message = {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(int(at.timestamp())),
        "type": "text",
        "text": {"body": text},
        **(extra or {}),
    }
    payload = messages_change(
        {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
    )
    response = post(client, payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return payload


def sends(db: Database) -> list[MessageSend]:
    with db.session() as session:
        return list(session.scalars(select(MessageSend).order_by(MessageSend.created_at)))
