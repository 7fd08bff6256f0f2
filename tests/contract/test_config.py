"""docs/contract.md "Configuration": names and behaviours observable from outside."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app import create_app
from app.crypto.keys import generate_private_key, private_pem
from tests.conftest import KEY_PASSPHRASE, make_config
from tests.contract.wire import (
    AUTH,
    LEAD_FIELDS,
    hub_signature,
    issue_token,
    nfm_reply,
    post_endpoint,
    post_meta,
    seal,
)


def _client(settings: dict[str, str], **overrides: str):  # type: ignore[no-untyped-def]
    return create_app(make_config({**settings, **overrides})).test_client()


def test_production_without_app_secret_refuses_to_start(settings, db) -> None:  # type: ignore[no-untyped-def]
    config = {k: v for k, v in settings.items() if k != "FLOWGATE_APP_SECRET"}
    with pytest.raises(Exception) as info:
        create_app(make_config(config))
    assert "FLOWGATE_APP_SECRET" in str(info.value)


def test_app_secret_rotation_on_endpoint_and_webhooks(settings, db, private_key) -> None:  # type: ignore[no-untyped-def]
    client = _client(settings, FLOWGATE_APP_SECRET="new-secret,test-app-secret")
    sealed = seal(private_key.public_key(), {"version": "3.0", "action": "ping"})
    for secret in ("new-secret", "test-app-secret"):
        sig = hub_signature(sealed.body, secret)
        assert post_endpoint(client, "appointment", sealed.body, signature=sig).status_code == 200
    sig = hub_signature(sealed.body, "third")
    assert post_endpoint(client, "appointment", sealed.body, signature=sig).status_code == 432
    note = nfm_reply("447700900801", {**LEAD_FIELDS})
    import json

    body = json.dumps(note).encode()
    for secret, status in (("new-secret", 200), ("test-app-secret", 200), ("third", 403)):
        res = client.post(
            "/webhooks/whatsapp",
            data=body,
            headers={"X-Hub-Signature-256": hub_signature(body, secret)},
        )
        assert res.status_code == status


def test_max_endpoint_body_setting(settings, db, private_key) -> None:  # type: ignore[no-untyped-def]
    client = _client(settings, FLOWGATE_MAX_ENDPOINT_BODY="2000")
    sealed = seal(private_key.public_key(), {"version": "3.0", "action": "ping"})
    assert len(sealed.body) < 2000
    assert post_endpoint(client, "appointment", sealed.body).status_code == 200
    padded = sealed.body[:-1] + b" " * (2001 - len(sealed.body)) + b"}"
    assert len(padded) == 2001
    assert post_endpoint(client, "appointment", padded, signature=None).status_code == 413


def test_private_key_rotation_old_key_still_decrypts(  # type: ignore[no-untyped-def]
    settings, db, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    new_key = generate_private_key()
    new_file = tmp_path / "new.pem"
    new_file.write_bytes(private_pem(new_key, KEY_PASSPHRASE))
    files = f"{new_file},{settings['FLOWGATE_PRIVATE_KEY_FILE']}"
    client = _client(settings, FLOWGATE_PRIVATE_KEY_FILE=files)
    for key in (new_key, private_key):
        sealed = seal(key.public_key(), {"version": "3.0", "action": "ping"})
        res = post_endpoint(client, "appointment", sealed.body)
        assert res.status_code == 200
        assert sealed.open(res.get_data())["data"] == {"status": "active"}
    stranger = generate_private_key()
    sealed = seal(stranger.public_key(), {"version": "3.0", "action": "ping"})
    assert post_endpoint(client, "appointment", sealed.body).status_code == 421


def test_no_api_tokens_means_api_closed_but_openapi_open(settings, db) -> None:  # type: ignore[no-untyped-def]
    client = _client(settings, FLOWGATE_API_TOKENS="")
    for headers in ({}, AUTH, {"Authorization": "Bearer "}):
        assert client.get("/api/v1/submissions", headers=headers).status_code in (401, 403)
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_several_api_tokens(settings, db) -> None:  # type: ignore[no-untyped-def]
    client = _client(settings, FLOWGATE_API_TOKENS="one-token,two-token")
    for token in ("one-token", "two-token"):
        res = client.get("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200


def test_handshake_without_verify_token_configured_is_403(settings, db) -> None:  # type: ignore[no-untyped-def]
    config = {k: v for k, v in settings.items() if k != "FLOWGATE_VERIFY_TOKEN"}
    client = create_app(make_config(config)).test_client()
    for token in ("", "None", "test-verify-token"):
        query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}
        assert client.get("/webhooks/whatsapp", query_string=query).status_code == 403


def test_expired_token_is_427(client, private_key) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(client, "appointment", "447700900802", ttl=1)["flow_token"]
    time.sleep(2.1)  # expires_at is whole seconds: stay clear of the edge
    sealed = seal(
        private_key.public_key(), {"version": "3.0", "action": "INIT", "flow_token": token}
    )
    res = post_endpoint(client, "appointment", sealed.body)
    assert res.status_code == 427
    assert sealed.open(res.get_data())["error_msg"]


def test_wa_id_binding_does_not_break_valid_owner(client) -> None:  # type: ignore[no-untyped-def]
    wa_id = "447700900803"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    assert (
        post_meta(client, nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS})).status_code == 200
    )
    item = client.get("/api/v1/submissions", headers=AUTH).get_json()["items"][0]
    assert item["status"] == "valid"


def test_database_pool_settings(settings, db) -> None:  # type: ignore[no-untyped-def]
    """FLOWGATE_DB_POOL_SIZE and FLOWGATE_DB_MAX_OVERFLOW size every process's pool
    (docs/scaling.md); the defaults are SQLAlchemy's 5 and 10."""
    from app.db import Database
    from app.errors import ConfigError

    default = Database.from_config(make_config(settings))
    configured = Database.from_config(
        make_config({**settings, "FLOWGATE_DB_POOL_SIZE": "3", "FLOWGATE_DB_MAX_OVERFLOW": "1"})
    )
    try:
        assert (default.engine.pool.size(), default.engine.pool._max_overflow) == (5, 10)  # type: ignore[attr-defined]
        assert (configured.engine.pool.size(), configured.engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
    finally:
        default.dispose()
        configured.dispose()
    for bad in ({"FLOWGATE_DB_POOL_SIZE": "0"}, {"FLOWGATE_DB_MAX_OVERFLOW": "-1"},
                {"FLOWGATE_DB_POOL_SIZE": "many"}):  # fmt: skip
        with pytest.raises(ConfigError, match=r"FLOWGATE_DB_POOL_SIZE|pool"):
            make_config({**settings, **bad})
