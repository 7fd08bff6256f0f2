"""Property tests: whatever a client sends, the endpoint never answers 500 or plaintext 200."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.crypto.envelope import DecryptionError, encrypt_request
from app.crypto.signatures import hub_signature
from app.endpoint.checker import check_answer
from tests.conftest import APP_SECRET
from tests.endpoint.conftest import token_for

URL = "/flows/appointment/endpoint"
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
screens = st.sampled_from(["", "APPOINTMENT", "DETAILS", "SUMMARY", "SUCCESS", "NOPE"])
actions = st.sampled_from(["INIT", "BACK", "data_exchange", "ping", "navigate", "complete", ""])
field_values = st.dictionaries(
    st.sampled_from(
        [
            "department",
            "location",
            "date",
            "time",
            "name",
            "email",
            "phone",
            "more_details",
            "error",
            "error_message",
            "x",
        ]
    ),
    json_values,
    max_size=9,
)


def _post(app: Flask, body: bytes, signed: bool = True) -> Any:
    headers = {"X-Hub-Signature-256": hub_signature(APP_SECRET, body)} if signed else {}
    return app.test_client().post(URL, data=body, headers=headers)


@SETTINGS
@given(body=st.binary(max_size=2048), signed=st.booleans())
def test_arbitrary_bytes(app: Flask, body: bytes, signed: bool) -> None:
    response = _post(app, body, signed)
    assert response.status_code in ({400, 421} if signed else {432})
    assert response.get_data() == b""


@SETTINGS
@given(
    document=st.dictionaries(
        st.sampled_from(["encrypted_flow_data", "encrypted_aes_key", "initial_vector", "other"]),
        json_values,
    )
)
def test_arbitrary_json_envelopes(app: Flask, document: dict[str, Any]) -> None:
    response = _post(app, json.dumps(document).encode())
    assert response.status_code in {400, 421}
    assert response.get_data() == b""


@SETTINGS
@given(
    action=actions,
    screen=screens,
    data=field_values | json_values,
    token=st.sampled_from(["valid", "none", "junk"]),
    version=st.sampled_from(["3.0", "4.0", None]),
    extra=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)
def test_arbitrary_decrypted_requests(
    app: Flask,
    private_key: rsa.RSAPrivateKey,
    action: str,
    screen: str,
    data: Any,
    token: str,
    version: str | None,
    extra: dict[str, Any],
) -> None:
    payload: dict[str, Any] = {**extra, "action": action, "screen": screen, "data": data}
    if version:
        payload["version"] = version
    if token != "none":
        payload["flow_token"] = token_for("appointment") if token == "valid" else "junk"
    envelope, cipher = encrypt_request(private_key.public_key(), payload)
    response = _post(app, json.dumps(envelope.to_dict()).encode())
    assert response.status_code in {200, 427}, response.get_data()
    text = response.get_data(as_text=True)
    try:
        answer = cipher.decrypt(text)  # every 200/427 body is ciphertext
    except DecryptionError as exc:
        raise AssertionError(f"plaintext or foreign answer: {text[:80]!r}") from exc
    if response.status_code == 427:
        assert isinstance(answer.get("error_msg"), str)
    elif action == "ping":
        assert answer == {"data": {"status": "active"}}
    elif "data" in answer and answer["data"] == {"acknowledged": True}:
        assert isinstance(data, dict) and {"error", "error_message"} & set(data)
    else:
        model = app.extensions["flowgate"].registry.get("appointment").model
        from_screen = screen if action != "INIT" and model.screen(screen) else None
        problems = check_answer(model, action if from_screen else "INIT", from_screen, answer)
        assert problems == [], (payload, answer)
