"""Smaller integrity rules: testing mode only from the factory, wa_id kept but flagged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Config
from app.db import Database
from app.models import Submission
from tests.endpoint.conftest import make_client, token_for
from tests.endpoint.test_routing import HANDLERS
from tests.leads.meta import LEAD, nfm_reply, post


def test_a_testing_environment_variable_does_not_switch_testing_on() -> None:
    assert Config.load({}, environ={"TESTING": "1"}, dotenv_path=None).testing is False
    assert Config.load({}, environ={"FLOWGATE_TESTING": "1"}, dotenv_path=None).testing is False
    assert Config.load({"TESTING": "1"}, environ={}, dotenv_path=None).testing is True


def test_a_broken_answer_stays_encrypted_with_testing_set_in_the_environment(
    settings: dict[str, str],
    db: Database,
    flows_dir: Path,
    private_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
) -> None:
    (flows_dir / "appointment.py").write_text(
        HANDLERS.format(settings="", init="return Answer('SUMMARY', {})")
    )
    production = {k: v for k, v in settings.items() if k != "TESTING"}
    production |= {
        "FLOWGATE_FLOWS_DIR": str(flows_dir),
        "FLOWGATE_SCHEMAS_DIR": str(flows_dir.parent / "schemas"),
    }
    monkeypatch.setenv("TESTING", "1")  # a stray variable in production
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    try:
        with caplog.at_level(logging.ERROR, "flowgate.endpoint"):
            reply = make_client(app, private_key, token=token_for("appointment")).send(
                {"version": "3.0", "action": "INIT", "screen": "", "data": {}, "flow_token":
                 token_for("appointment")}
            )  # fmt: skip
        assert reply.status == 200  # encrypted generic error, not a plaintext 500
        assert reply.payload["data"]["error_message"]
        assert "invalid-screen-transition" not in reply.body
    finally:
        app.extensions["flowgate"].db.dispose()


@pytest.mark.parametrize("sender", ["12ab", "1234", "123456789012345678901", "+5511912345678"])
def test_a_wa_id_that_is_not_5_to_20_digits_is_stored_and_flagged(
    client: FlaskClient, db: Database, sender: str
) -> None:
    assert post(client, nfm_reply(LEAD, wa_id=sender, message_id=f"w.{sender}")).status_code == 200
    with db.session() as session:
        sub = session.scalars(select(Submission)).one()
    assert sub.wa_id == sender
    assert sub.status == "invalid"
    assert [e["code"] for e in sub.errors] == ["bad_wa_id"]
    assert "5 to 20 digits" in sub.errors[0]["message"]


def test_a_good_wa_id_is_not_flagged(client: FlaskClient, db: Database) -> None:
    post(client, nfm_reply(LEAD, wa_id="5511912345678"))
    with db.session() as session:
        assert session.scalars(select(Submission.status)).one() == "valid"
