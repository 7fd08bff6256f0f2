"""One judge per flow: the screen check and the stored lead use the same validator object.

Flows here have no schemas/<name>.json, so the schema derived from the Flow JSON judges them
(app/flowjson/submission.py); an optional input left blank (`""`, as the WhatsApp client
sends it) passes on both paths. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.crypto.tokens import issue_token
from app.db import Database
from app.endpoint.emulator import FlaskTransport, WhatsAppClient
from app.models import Submission
from tests.conftest import make_config
from tests.leads.meta import TOKEN_SECRET, nfm_reply, post

WA = "447700900123"
INPUTS = [
    {"type": "TextInput", "name": "name", "label": "Name", "required": True, "min-chars": 2},
    {"type": "TextInput", "name": "email", "label": "Email", "input-type": "email"},
]
PAYLOAD = {"name": "${form.name}", "email": "${form.email}"}


def flow(action: str) -> dict[str, Any]:
    """A one-screen flow: `data_exchange` makes it endpoint-powered, `complete` not."""
    footer = {"type": "Footer", "label": "Send", "on-click-action": {"name": action}}
    footer["on-click-action"]["payload"] = PAYLOAD
    screen = {
        "id": "SIGNUP",
        "title": "Sign up",
        "terminal": True,
        "layout": {"type": "SingleColumnLayout", "children": [*INPUTS, footer]},
    }
    doc: dict[str, Any] = {"version": "7.0", "screens": [screen]}
    if action == "data_exchange":
        doc.update(data_api_version="3.0", routing_model={})
    else:
        screen["success"] = True
    return doc


@pytest.fixture
def app(settings: dict[str, str], db: Database, tmp_path: Path) -> Iterator[Flask]:
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    flows.mkdir()
    schemas.mkdir()
    (flows / "signup.json").write_text(json.dumps(flow("data_exchange")))
    (flows / "callback.json").write_text(json.dumps(flow("complete")))
    dirs = {"FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    yield create_app(make_config({**settings, **dirs}))


def phone(app: Flask, private_key: rsa.RSAPrivateKey) -> WhatsAppClient:
    definition = app.extensions["flowgate"].registry.get("signup")
    return WhatsAppClient(
        flow="signup",
        document=definition.document,
        public_key=private_key.public_key(),
        app_secret="test-app-secret",
        transport=FlaskTransport(app.test_client()),
        flow_token=issue_token(TOKEN_SECRET, flow="signup", wa_id=WA).flow_token,
    )


def stored(db: Database) -> list[Submission]:
    with db.session() as session:
        return list(session.scalars(select(Submission)).all())


def test_flows_without_a_schema_file_are_judged_by_the_derived_schema(app: Flask) -> None:
    registry = app.extensions["flowgate"].registry
    assert {d.name: d.schema_source for d in registry.all()} == {
        "callback": "derived",
        "signup": "derived",
    }
    email = registry.get("signup").schema["properties"]["email"]
    assert email["if"] == {"const": ""}  # the generated schema itself accepts a blank


@pytest.mark.parametrize(
    ("email", "accepted"),
    [
        ("", True),  # optional and left blank
        ("ana@example.com", True),
        ("ana@example", False),  # the derived pattern wants a dot in the domain
        ("not an email", False),
        ("a@b.c", True),
    ],
)
def test_a_value_accepted_on_screen_is_accepted_in_the_stored_lead(
    app: Flask, db: Database, private_key: rsa.RSAPrivateKey, email: str, accepted: bool
) -> None:
    client = phone(app, private_key)
    client.init()
    answer = client.exchange("SIGNUP", {"name": "Ana", "email": email})
    on_screen = "error_message" not in answer.get("data", {})
    assert on_screen is accepted
    leads = stored(db)
    if on_screen:
        assert [(s.status, s.errors, s.fields["email"]) for s in leads] == [("valid", [], email)]
    else:
        assert leads == []  # refused on screen: the user fixes it, nothing is stored yet


def test_the_endpoint_and_intake_ask_the_same_validator_object(
    app: Flask, db: Database, private_key: rsa.RSAPrivateKey
) -> None:
    """Tighten the one validator after load: both the screen and the lead follow it."""
    validator = app.extensions["flowgate"].registry.get("signup").validator
    calls: list[frozenset[str] | None] = []
    original = validator.check

    def spy(fields: Any, only: Any = None) -> list[dict[str, Any]]:
        calls.append(None if only is None else frozenset(only))
        return original(fields, only)

    validator.check = spy  # type: ignore[method-assign]
    client = phone(app, private_key)
    client.init()
    client.exchange("SIGNUP", {"name": "Ana", "email": ""})
    assert calls == [frozenset({"name", "email"}), None]  # the screen, then the lead
    assert [s.status for s in stored(db)] == ["valid"]


@pytest.mark.parametrize(
    ("fields", "status", "codes"),
    [
        ({"name": "Ana", "email": ""}, "valid", []),
        ({"name": "Ana"}, "valid", []),
        ({"name": "Ana", "email": "nope"}, "invalid", ["format", "pattern"]),
        ({"name": "", "email": ""}, "invalid", ["minLength"]),  # required: blank is judged
    ],
)
def test_webhook_leads_of_a_flow_without_schema_file(
    app: Flask, db: Database, fields: dict[str, str], status: str, codes: list[str]
) -> None:
    token = issue_token(TOKEN_SECRET, flow="callback", wa_id="5511912345678").flow_token
    assert post(app.test_client(), nfm_reply(fields, token=token)).status_code == 200
    [lead] = stored(db)
    assert (lead.flow, lead.status, [e["code"] for e in lead.errors]) == ("callback", status, codes)


def test_a_schema_file_replaces_the_derived_one_and_blank_optional_fields_pass(
    settings: dict[str, str], db: Database, tmp_path: Path
) -> None:
    flows, schemas = tmp_path / "own" / "flows", tmp_path / "own" / "schemas"
    flows.mkdir(parents=True)
    schemas.mkdir()
    (flows / "callback.json").write_text(json.dumps(flow("complete")))
    own = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
        "required": ["name"],
    }
    (schemas / "callback.json").write_text(json.dumps(own))
    dirs = {"FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    app = create_app(make_config({**settings, **dirs}))
    definition = app.extensions["flowgate"].registry.get("callback")
    assert (definition.schema_source, definition.schema) == ("file", own)
    client = app.test_client()
    for i, email in enumerate(("", "x")):  # blank passes; "x" is no email
        token = issue_token(TOKEN_SECRET, flow="callback", wa_id="5511912345678").flow_token
        payload = nfm_reply({"name": "Ana", "email": email}, token=token, message_id=f"w.{i}")
        assert post(client, payload).status_code == 200
    with db.session() as session:
        rows = session.scalars(select(Submission).order_by(Submission.received_at)).all()
        assert [(r.fields["email"], r.status) for r in rows] == [("", "valid"), ("x", "invalid")]
