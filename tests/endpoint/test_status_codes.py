"""Every row of the endpoint's status-code table, in docs/contract.md's order."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select

from app import clock
from app.crypto.envelope import encrypt_request
from app.crypto.jwt import sign_flow_token
from app.crypto.keys import private_pem
from app.crypto.signatures import hub_signature
from app.crypto.tokens import issue_token
from app.db import Database
from app.endpoint.emulator import ClientError
from app.models import FlowSession
from tests.conftest import APP_SECRET
from tests.endpoint.conftest import ClientFactory, token_for

URL = "/flows/appointment/endpoint"
INIT = {"version": "3.0", "action": "INIT", "screen": "", "data": {}}


def post(app: Flask, body: bytes, *, secret: str | None = APP_SECRET, **headers: str) -> Any:
    if secret is not None:
        headers["X-Hub-Signature-256"] = hub_signature(secret, body)
    return app.test_client().post(URL, data=body, headers=headers)


def sealed(key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> tuple[dict[str, str], Any]:
    envelope, cipher = encrypt_request(key.public_key(), payload)
    return envelope.to_dict(), cipher


def flip(b64: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x80
    return base64.b64encode(bytes(raw)).decode()


def test_unknown_and_unservable_flows_are_404_before_anything(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/flows/nope/endpoint", data=b"x" * 10).status_code == 404
    # Endpoint-less flows have no data endpoint.
    assert client.post("/flows/lead_capture/endpoint", data=b"{}").status_code == 404
    assert client.get(URL).status_code == 405


def test_oversized_body_is_413_before_the_signature(variant: Any) -> None:
    small = variant(FLOWGATE_MAX_ENDPOINT_BODY="2000")
    big = b"{" + b" " * 2000 + b"}"
    assert post(small, big, secret=None).status_code == 413
    assert post(small, big).status_code == 413
    # Exactly at the limit is read and goes on to the next check (here: the envelope, 400).
    at_limit = b"{" + b" " * 1998 + b"}"
    assert post(small, at_limit).status_code == 400


def test_signature_missing_wrong_or_old_is_432(app: Flask, private_key: rsa.RSAPrivateKey) -> None:
    envelope, _ = sealed(private_key, INIT)
    body = json.dumps(envelope).encode()
    assert post(app, body, secret=None).status_code == 432
    assert post(app, body, secret="wrong").status_code == 432
    assert post(app, body, secret="old-secret").status_code == 432
    # A signature over the same JSON re-serialised (other bytes) does not verify the raw body.
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    headers = {"X-Hub-Signature-256": hub_signature(APP_SECRET, reserialised)}
    assert app.test_client().post(URL, data=body, headers=headers).status_code == 432
    bad_header = {"X-Hub-Signature-256": "sha1=" + "0" * 40}
    assert app.test_client().post(URL, data=body, headers=bad_header).status_code == 432
    assert post(app, b"not json", secret=None).status_code == 432  # 432 before 400


def test_old_app_secret_accepted_during_rotation(
    variant: Any, private_key: rsa.RSAPrivateKey
) -> None:
    rotating = variant(FLOWGATE_APP_SECRET=f"new-secret,{APP_SECRET}")
    envelope, cipher = sealed(private_key, {"version": "3.0", "action": "ping"})
    body = json.dumps(envelope).encode()
    for secret in ("new-secret", APP_SECRET):
        response = post(rotating, body, secret=secret)
        assert response.status_code == 200
        assert cipher.decrypt(response.get_data(as_text=True)) == {"data": {"status": "active"}}
    assert post(rotating, body, secret="older-secret").status_code == 432


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"string"',
        b'{"encrypted_flow_data": "x", "encrypted_aes_key": "y"}',
        b'{"encrypted_flow_data": 1, "encrypted_aes_key": "y", "initial_vector": "z"}',
        b'{"encrypted_flow_data": null, "encrypted_aes_key": "y", "initial_vector": "z"}',
    ],
)
def test_malformed_envelope_is_plain_400(app: Flask, body: bytes) -> None:
    response = post(app, body)
    assert response.status_code == 400
    assert response.get_data() == b""


@pytest.mark.parametrize(
    "field,index",
    [
        ("encrypted_flow_data", 2),  # ciphertext byte
        ("encrypted_flow_data", -3),  # tag byte
        ("initial_vector", 0),
        ("encrypted_aes_key", 100),
    ],
)
def test_tampered_payload_is_421(
    app: Flask, private_key: rsa.RSAPrivateKey, field: str, index: int
) -> None:
    envelope, _ = sealed(private_key, {**INIT, "flow_token": token_for("appointment")})
    envelope[field] = flip(envelope[field], index)
    response = post(app, json.dumps(envelope).encode())
    assert response.status_code == 421
    assert response.get_data() == b""


@pytest.mark.parametrize(
    "field,value",
    [
        ("encrypted_flow_data", "***not base64***"),
        ("initial_vector", base64.b64encode(bytes(12)).decode()),  # 12-byte IV
        ("encrypted_aes_key", base64.b64encode(bytes(255)).decode()),
        ("encrypted_flow_data", base64.b64encode(bytes(8)).decode()),  # shorter than the tag
    ],
)
def test_undecryptable_shapes_are_421(
    app: Flask, private_key: rsa.RSAPrivateKey, field: str, value: str
) -> None:
    envelope, _ = sealed(private_key, INIT)
    envelope[field] = value
    assert post(app, json.dumps(envelope).encode()).status_code == 421


def test_request_for_another_key_is_421_and_rotated_key_is_accepted(
    app: Flask, variant: Any, tmp_path: Any, private_key: rsa.RSAPrivateKey, other_key: Any
) -> None:
    envelope, _ = sealed(other_key, {"version": "3.0", "action": "ping"})
    body = json.dumps(envelope).encode()
    assert post(app, body).status_code == 421
    # Rotation: the new key is current, the old one (which this request used) still loaded.
    new_file = tmp_path / "new.pem"
    new_file.write_bytes(private_pem(other_key, None))
    old_file = app.extensions["flowgate"].config.private_key_files[0]
    rotated = variant(FLOWGATE_PRIVATE_KEY_FILE=f"{new_file},{old_file}")
    for key in (other_key, private_key):
        envelope, cipher = sealed(key, {"version": "3.0", "action": "ping"})
        response = post(rotated, json.dumps(envelope).encode())
        assert response.status_code == 200
        assert cipher.decrypt(response.get_data(as_text=True)) == {"data": {"status": "active"}}


def test_ping_is_encrypted_text_plain(wa: ClientFactory) -> None:
    client = wa(token=None)
    reply = client.send(client.request_payload("ping", None, {}))
    assert reply.status == 200
    assert reply.payload == {"data": {"status": "active"}}
    assert "status" not in reply.body  # ciphertext, not plaintext JSON


def test_content_type_is_text_plain(app: Flask, private_key: rsa.RSAPrivateKey) -> None:
    envelope, _ = sealed(private_key, {"version": "3.0", "action": "ping"})
    response = post(app, json.dumps(envelope).encode())
    assert response.status_code == 200
    assert response.mimetype == "text/plain"


def test_error_notifications_are_acknowledged_and_recorded(wa: ClientFactory, db: Database) -> None:
    client = wa()
    client.init()
    reply = client.report_error("APPOINTMENT", "payload-schema-error", "bad data")
    assert reply.status == 200 and reply.payload == {"data": {"acknowledged": True}}
    with db.session() as session:
        row = session.scalars(select(FlowSession)).one()
    assert row.status == "error"
    assert row.last_error["error"] == "payload-schema-error"
    # Never refused, even with a bad or missing token.
    for token in ("forged", None):
        anon = wa(token=token)
        reply = anon.report_error("APPOINTMENT", "invalid-screen-transition")
        assert reply.status == 200 and reply.payload == {"data": {"acknowledged": True}}
    # The session recovers on the next good request.
    assert client.init()["screen"] == "APPOINTMENT"


@pytest.mark.parametrize(
    "case", ["missing", "forged", "expired", "other_flow", "garbage", "unused"]
)
def test_bad_tokens_are_427_with_an_encrypted_message(wa: ClientFactory, case: str) -> None:
    token: str | None = {
        "missing": None,
        "forged": token_for("appointment")[:-4] + "AAAA",
        "expired": token_for("appointment", ttl=60),
        "other_flow": token_for("lead_capture"),
        "garbage": "x" * 40,
        "unused": "unused",
    }[case]
    if case == "expired":
        clock.set_now(clock.now() + timedelta(seconds=61))
    client = wa(token=token)
    with pytest.raises(ClientError) as caught:
        client.init()
    assert caught.value.status == 427
    assert caught.value.error_msg == "This form has expired. Please ask for a new one."


def test_token_signed_with_another_token_secret_is_427(wa: ClientFactory) -> None:
    token = issue_token("not-our-secret", flow="appointment", wa_id="447700900123").flow_token
    with pytest.raises(ClientError) as caught:
        wa(token=token).init()
    assert caught.value.status == 427 and caught.value.error_msg


# Meta's app secrets are 32 characters; the test secret is shorter, which PyJWT warns about.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_data_api_4_flow_token_signature(wa: ClientFactory) -> None:
    token = token_for("appointment")
    good = wa(token=token, sign_flow_token=True)
    assert good.init()["screen"] == "APPOINTMENT"
    for signature in (
        sign_flow_token(token, "not-the-app-secret"),
        sign_flow_token(token_for("appointment"), APP_SECRET),  # another token
        "not.a.jwt",
    ):
        payload = {**good.request_payload("INIT", None, {}), "flow_token_signature": signature}
        reply = good.send(payload)
        assert reply.status == 427 and reply.payload["error_msg"]
    # The claim name is UNCONFIRMED: a differently named claim carrying the token is accepted.
    import jwt

    other_claim = jwt.encode({"token": token}, APP_SECRET, algorithm="HS256")
    payload = {**good.request_payload("INIT", None, {}), "flow_token_signature": other_claim}
    assert good.send(payload).status == 200
    alg_none = jwt.encode({"flow_token": token}, None, algorithm="none")
    payload = {**good.request_payload("INIT", None, {}), "flow_token_signature": alg_none}
    assert good.send(payload).status == 427
