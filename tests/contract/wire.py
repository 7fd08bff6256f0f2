"""An independent WhatsApp-side client for the contract tests (built from protocol.md §2-§3 and §9).

Deliberately does not import the project's emulator or crypto: the request is encrypted and
the answer decrypted here with the `cryptography` package, and signatures are plain HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.conftest import API_TOKEN, APP_SECRET

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def hub_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """`X-Hub-Signature-256` value as Meta computes it over the raw body (protocol.md §7.1)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Sealed:
    """One encrypted request and what is needed to read its answer."""

    body: bytes
    key: bytes
    iv: bytes

    def open(self, text: bytes | str) -> Any:
        """Decrypt a response body with the same key and the flipped IV (protocol.md §3)."""
        raw = base64.b64decode(text)
        flipped = bytes(b ^ 0xFF for b in self.iv)
        return json.loads(AESGCM(self.key).decrypt(flipped, raw, None))


def seal(
    public_key: rsa.RSAPublicKey,
    payload: Any,
    *,
    key_size: int = 16,
    extra: dict[str, Any] | None = None,
    plaintext: bytes | None = None,
) -> Sealed:
    """Encrypt `payload` as Meta's client does: RSA-OAEP-SHA256 key wrap, AES-GCM, 16-byte IV."""
    key = os.urandom(key_size)
    iv = os.urandom(16)
    data = plaintext if plaintext is not None else json.dumps(payload).encode()
    envelope = {
        "encrypted_flow_data": base64.b64encode(AESGCM(key).encrypt(iv, data, None)).decode(),
        "encrypted_aes_key": base64.b64encode(public_key.encrypt(key, OAEP)).decode(),
        "initial_vector": base64.b64encode(iv).decode(),
        **(extra or {}),
    }
    return Sealed(json.dumps(envelope).encode(), key, iv)


def post_endpoint(client: Any, flow: str, body: bytes, *, signature: str | None = "auto") -> Any:
    """POST raw bytes to the data endpoint, signed unless told otherwise."""
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = hub_signature(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(f"/flows/{flow}/endpoint", data=body, headers=headers)


def post_meta(client: Any, notification: dict[str, Any], *, signature: str | None = "auto") -> Any:
    body = json.dumps(notification).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = hub_signature(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post("/webhooks/whatsapp", data=body, headers=headers)


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }


def nfm_reply(
    wa_id: str,
    response: dict[str, Any],
    *,
    name: str = "Ada",
    wamid: str | None = None,
    timestamp: int | None = None,
    context_id: str = "wamid.FLOWMSG",
) -> dict[str, Any]:
    """A flow completion on the `messages` webhook (protocol.md §9.1): response_json is a string."""
    return envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "111"},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "context": {"from": "15550000000", "id": context_id},
                    "from": wa_id,
                    "id": wamid or f"wamid.{os.urandom(8).hex()}",
                    "timestamp": str(timestamp if timestamp is not None else int(time.time())),
                    "type": "interactive",
                    "interactive": {
                        "type": "nfm_reply",
                        "nfm_reply": {
                            "name": "flow",
                            "body": "Sent",
                            "response_json": json.dumps(response),
                        },
                    },
                }
            ],
        }
    )


def text_message(wa_id: str, *, timestamp: int, text: str = "hi") -> dict[str, Any]:
    return envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "111"},
            "contacts": [{"profile": {"name": "Ada"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": f"wamid.{os.urandom(8).hex()}",
                    "timestamp": str(timestamp),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def failed_status(wa_id: str, *, timestamp: int, code: int = 131047) -> dict[str, Any]:
    return envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "111"},
            "statuses": [
                {
                    "id": f"wamid.{os.urandom(8).hex()}",
                    "status": "failed",
                    "timestamp": str(timestamp),
                    "recipient_id": wa_id,
                    "errors": [
                        {
                            "code": code,
                            "title": "Re-engagement message",
                            "message": "Re-engagement message",
                            "error_data": {
                                "details": "More than 24 hours have passed since the recipient"
                                " last replied to the sender number."
                            },
                        }
                    ],
                }
            ],
        }
    )


LEAD_FIELDS = {
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0000",
    "email": "ada@example.com",
    "service": "consultation",
    "preferred_date": "2026-12-01",
}


def issue_token(client: Any, flow: str, wa_id: str, ttl: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"flow": flow, "wa_id": wa_id}
    if ttl is not None:
        body["ttl_seconds"] = ttl
    res = client.post("/api/v1/flow-tokens", json=body, headers=AUTH)
    assert res.status_code == 201, res.get_data(as_text=True)
    return res.get_json()


def assert_error_shape(res: Any, status: int) -> dict[str, Any]:
    """Every API error is `{"error": {"code", "message", "details"}}` (docs/contract.md)."""
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True))
    body = res.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


ISO_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
