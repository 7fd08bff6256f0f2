"""Flow tokens (core, API, CLI), key tooling, and `flowgate simulate` over real loopback HTTP."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from app import clock
from app.crypto.keys import load_private_key
from app.crypto.tokens import TokenError, issue_token, verify_token
from app.db import Database
from app.endpoint.emulator import HttpTransport, WhatsAppClient
from app.models import Submission
from tests.conftest import APP_SECRET
from tests.endpoint.conftest import TOKEN_SECRET, WA_ID
from tests.endpoint.test_routing import DETAILS, booking_answers


def test_tokens_bind_flow_and_contact_and_expire() -> None:
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    clock.set_now(start)
    issued = issue_token(TOKEN_SECRET, flow="appointment", wa_id=WA_ID)
    assert issued.expires_at == start + timedelta(hours=72)
    claims = verify_token(TOKEN_SECRET, issued.flow_token, flow="appointment")
    assert (claims.flow, claims.wa_id) == ("appointment", WA_ID)
    assert (
        issued.flow_token != issue_token(TOKEN_SECRET, flow="appointment", wa_id=WA_ID).flow_token
    )
    reasons = {}
    for name, token, secret, flow in [
        ("other_flow", issued.flow_token, TOKEN_SECRET, "lead_capture"),
        ("forged", issued.flow_token, "another-secret", "appointment"),
        ("forged", issued.flow_token.replace(".", ".x", 1), TOKEN_SECRET, "appointment"),
        ("malformed", "unused", TOKEN_SECRET, "appointment"),
        ("missing", "", TOKEN_SECRET, "appointment"),
    ]:
        with pytest.raises(TokenError) as caught:
            verify_token(secret, token, flow=flow)
        reasons.setdefault(name, caught.value.reason)
    assert reasons == {k: k for k in reasons}
    clock.set_now(start + timedelta(hours=72) - timedelta(seconds=1))
    verify_token(TOKEN_SECRET, issued.flow_token)
    clock.set_now(start + timedelta(hours=72))
    with pytest.raises(TokenError, match="expired"):
        verify_token(TOKEN_SECRET, issued.flow_token)


def test_api_issues_tokens(client: Any, api_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/flow-tokens",
        json={"flow": "appointment", "wa_id": WA_ID, "ttl_seconds": 600},
        headers=api_headers,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"flow_token", "flow", "wa_id", "expires_at"}
    assert body["expires_at"].endswith("Z")
    claims = verify_token(TOKEN_SECRET, body["flow_token"], flow="appointment")
    assert claims.wa_id == WA_ID
    assert abs((claims.expires_at - clock.now()).total_seconds() - 600) < 5
    default = client.post(
        "/api/v1/flow-tokens", json={"flow": "lead_capture", "wa_id": WA_ID}, headers=api_headers
    ).get_json()
    hours = (datetime.fromisoformat(default["expires_at"]) - clock.now()).total_seconds() / 3600
    assert 71.9 < hours <= 72
    for bad in (
        {"flow": "nope", "wa_id": WA_ID},
        {"flow": "appointment", "wa_id": "+44 7700"},
        {"flow": "appointment", "wa_id": WA_ID, "ttl_seconds": 0},
        {"wa_id": WA_ID},
    ):
        response = client.post("/api/v1/flow-tokens", json=bad, headers=api_headers)
        assert response.status_code == 400, bad
        assert response.get_json()["error"]["code"] == "invalid_request"
    assert client.post("/api/v1/flow-tokens", json={"flow": "appointment"}).status_code == 401


def test_cli_prints_the_token_alone(runner: Any) -> None:
    result = runner.invoke(["tokens", "issue", "--flow", "appointment", "--wa-id", WA_ID])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert result.output == token + "\n"
    assert verify_token(TOKEN_SECRET, token, flow="appointment").wa_id == WA_ID
    short = runner.invoke(
        ["tokens", "issue", "--flow", "appointment", "--wa-id", WA_ID, "--ttl", "60"]
    )
    claims = verify_token(TOKEN_SECRET, short.output.strip())
    assert (claims.expires_at - clock.now()).total_seconds() <= 60
    bad = runner.invoke(["tokens", "issue", "--flow", "nope", "--wa-id", WA_ID])
    assert bad.exit_code != 0 and "no flow named 'nope'" in bad.output


def test_keys_generate_and_public(tmp_path: Path, runner: Any) -> None:
    out = tmp_path / "keys" / "flow_private.pem"
    env = {
        "FLOWGATE_PRIVATE_KEY_PASSPHRASE": "pass-phrase",
        "FLOWGATE_INSTANCE_PATH": str(tmp_path),
    }
    result = runner.invoke(["keys", "generate", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    pem = out.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")  # PKCS#8, encrypted
    key = load_private_key(out, "pass-phrase")
    assert key.key_size == 2048
    again = runner.invoke(["keys", "generate", "--out", str(out)], env=env)
    assert again.exit_code != 0 and "exists" in again.output
    public = runner.invoke(["keys", "public", "--key", str(out)], env=env)
    assert public.exit_code == 0, public.output
    loaded = serialization.load_pem_public_key(public.output.encode())
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == key.public_key().public_numbers()
    assert public.output.startswith("-----BEGIN PUBLIC KEY-----")  # SPKI, what Meta takes


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP on a free loopback port, stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_emulator_over_real_http(
    live_url: str, app: Flask, private_key: rsa.RSAPrivateKey, db: Database
) -> None:
    transport = HttpTransport(live_url)
    token = issue_token(TOKEN_SECRET, flow="appointment", wa_id=WA_ID).flow_token
    client = WhatsAppClient(
        flow="appointment",
        document=app.extensions["flowgate"].registry.get("appointment").document,
        public_key=private_key.public_key(),
        app_secret=APP_SECRET,
        transport=transport,
        flow_token=token,
    )
    try:
        assert client.ping() == {"data": {"status": "active"}}
        result = client.walk(booking_answers())
    finally:
        transport.close()
    with db.session() as session:
        stored = session.scalars(select(Submission)).one()
    assert result.completion["submission_id"] == stored.id
    assert stored.fields == {**booking_answers()["APPOINTMENT"], **DETAILS}


def test_simulate_walks_a_running_endpoint(
    live_url: str, runner: Any, tmp_path: Path, db: Database
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(booking_answers()))
    result = runner.invoke(
        ["simulate", "appointment", "--url", live_url, "--answers", str(answers), "--wa-id", WA_ID]
    )
    assert result.exit_code == 0, result.output
    assert "ping: active" in result.output
    for screen in ("screen APPOINTMENT", "screen DETAILS", "screen SUMMARY", "completed"):
        assert screen in result.output
    # The completion's JSON; the nfm_reply simulate then posts (default with --url) follows it.
    completion, _ = json.JSONDecoder().raw_decode(result.output.split("completed\n", 1)[1])
    assert "nfm_reply posted" in result.output
    with db.session() as session:
        stored = session.scalars(select(Submission)).one()
    assert completion["submission_id"] == stored.id and stored.wa_id == WA_ID
    # A wrong answer makes the command fail with the client's reason.
    answers.write_text(json.dumps({"APPOINTMENT": {"department": "astrology"}}))
    failed = runner.invoke(
        ["simulate", "appointment", "--url", live_url, "--answers", str(answers)]
    )
    assert failed.exit_code != 0 and "not an option" in failed.output


def test_unloadable_key_is_a_clear_startup_error(settings: dict[str, str], tmp_path: Path) -> None:
    from app import create_app
    from app.errors import ConfigError
    from tests.conftest import make_config

    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    for files, message in [
        (str(broken), "not a PEM RSA key"),
        (f"{settings['FLOWGATE_PRIVATE_KEY_FILE']},{tmp_path / 'missing.pem'}", "cannot read"),
    ]:
        with pytest.raises(ConfigError, match=message):
            create_app(make_config({**settings, "FLOWGATE_PRIVATE_KEY_FILE": files}))


def test_simulate_walks_an_endpoint_less_flow_locally(runner: Any, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    fields = {
        "name": "Grace Hopper",
        "phone": "+1 555 010 9999",
        "email": "grace@example.com",
        "service": "other",
        "preferred_date": "2026-12-14",
    }
    answers.write_text(json.dumps({"LEAD_FORM": fields}))
    # Port 9 (discard) on loopback: nothing listens, and nothing may be contacted.
    result = runner.invoke(
        [
            "simulate",
            "lead_capture",
            "--url",
            "http://127.0.0.1:9",
            "--answers",
            str(answers),
            "--no-send-webhook",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "ping" not in result.output and "screen LEAD_FORM" in result.output
    assert json.loads(result.output.split("completed\n", 1)[1]) == fields
