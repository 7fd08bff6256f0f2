"""Hostile flow tokens on the data endpoint: 427 (or the acknowledgement), never a 500."""

from __future__ import annotations

import pytest

from app.crypto.tokens import TokenError, verify_token
from tests.endpoint.conftest import TOKEN_SECRET, ClientFactory, token_for

HOSTILE = {
    "non_ascii": "fg1.eyJmIjoibGVhZF9jYXB0dXJlIn0.é",
    "lone_surrogate": "fg1.eyJmIjoibGVhZF9jYXB0dXJlIn0.\ud800",
    "surrogate_payload": "fg1.\udfff.AAAA",
    "full_width": "\uff46\uff47\uff11.x.y",
}


@pytest.mark.parametrize("token", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("action", ["INIT", "data_exchange", "BACK"])
def test_hostile_token_is_an_encrypted_427(wa: ClientFactory, token: str, action: str) -> None:
    client = wa(token=token)
    reply = client.send(client.request_payload(action, "APPOINTMENT", {"x": 1}))
    assert reply.status == 427
    assert reply.payload["error_msg"] == "This form has expired. Please ask for a new one."


@pytest.mark.parametrize("token", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_token_on_an_error_notification_is_acknowledged(
    wa: ClientFactory, token: str
) -> None:
    reply = wa(token=token).report_error("APPOINTMENT", "invalid-screen-transition", "é\ud800")
    assert reply.status == 200 and reply.payload == {"data": {"acknowledged": True}}


# Meta's app secrets are 32 characters; the test secret is shorter, which PyJWT warns about.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("token", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_token_with_a_data_api_4_signature_is_427(wa: ClientFactory, token: str) -> None:
    client = wa(token=token, sign_flow_token=True)
    reply = client.send(client.request_payload("INIT", None, {}))
    assert reply.status == 427


def test_verify_token_compares_bytes_and_names_the_reason() -> None:
    good = token_for("appointment")
    assert verify_token(TOKEN_SECRET, good, flow="appointment").wa_id
    for token in HOSTILE.values():
        with pytest.raises(TokenError) as caught:
            verify_token(TOKEN_SECRET, token)
        assert caught.value.reason == "non_ascii"
    with pytest.raises(TokenError) as caught:
        verify_token(TOKEN_SECRET, good[:-1] + "é")
    assert caught.value.reason == "non_ascii"
