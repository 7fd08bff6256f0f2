"""The encrypted envelope of the Flow data endpoint, both directions (protocol.md §1-§3).

Server side: `parse_envelope` (the three base64 strings, else 400), `decrypt_request`
(RSA-OAEP SHA-256/MGF1 SHA-256 unwraps a 16-byte AES key, AES-128-GCM with the 16-byte IV
and the tag at the end, else 421) and `ResponseCipher.encrypt` (same key, every IV byte
XOR 0xFF). Client side, for the emulator, tests and benchmarks: `encrypt_request` and
`ResponseCipher.decrypt`, exactly what the WhatsApp client does.

The two error types carry no detail on purpose: the endpoint answers them with a bare status
and logs only the reason, never key material.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FIELDS = ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")
AES_KEY_BYTES = 16  # AES-128 only: another key size is 421 (docs/contract.md)
IV_BYTES = 16
TAG_BYTES = 16

OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


class EnvelopeError(Exception):
    """The body is not a JSON object with the three string fields (HTTP 400)."""


class DecryptionError(Exception):
    """The payload cannot be decrypted with any loaded key (HTTP 421); `reason` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    encrypted_flow_data: str
    encrypted_aes_key: str
    initial_vector: str

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True, repr=False)
class ResponseCipher:
    """The request's AES key and IV, kept to encrypt the answer (and, client side, read it)."""

    aes_key: bytes
    iv: bytes

    @property
    def response_iv(self) -> bytes:
        return bytes(b ^ 0xFF for b in self.iv)

    def encrypt(self, payload: Mapping[str, Any]) -> str:
        """base64(AES-128-GCM(key, flipped IV, JSON) || tag): the 200 (and 427) body."""
        plain = json.dumps(payload, separators=(",", ":")).encode()
        sealed = AESGCM(self.aes_key).encrypt(self.response_iv, plain, None)
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, body: str | bytes) -> Any:
        """Client side: read an answer. Raises DecryptionError when it is not ours."""
        try:
            sealed = base64.b64decode(body, validate=True)
            plain = AESGCM(self.aes_key).decrypt(self.response_iv, sealed, None)
            return json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise DecryptionError(f"answer does not decrypt: {type(exc).__name__}") from None


def parse_envelope(body: bytes) -> Envelope:
    """The request body as an Envelope; extra keys are ignored (docs/contract.md)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise EnvelopeError("body is not JSON") from None
    if not isinstance(document, dict):
        raise EnvelopeError("body is not a JSON object")
    values = [document.get(name) for name in FIELDS]
    if not all(isinstance(value, str) for value in values):
        raise EnvelopeError("the three envelope fields must be strings")
    return Envelope(*values)


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{what} is not standard base64") from None


def unwrap_key(wrapped: bytes, keys: Sequence[rsa.RSAPrivateKey]) -> bytes:
    """The AES key, trying the current private key first, then the older ones (rotation)."""
    for key in keys:
        if len(wrapped) != key.key_size // 8:
            continue
        try:
            aes_key = key.decrypt(wrapped, OAEP)
        except ValueError:
            continue
        if len(aes_key) != AES_KEY_BYTES:
            raise DecryptionError(f"AES key has {len(aes_key)} bytes; only AES-128 is used")
        return aes_key
    raise DecryptionError("no loaded private key unwraps the AES key")


def decrypt_request(
    envelope: Envelope, keys: Sequence[rsa.RSAPrivateKey]
) -> tuple[dict[str, Any], ResponseCipher]:
    """The decrypted request object and the cipher for its answer; DecryptionError otherwise."""
    wrapped = _b64(envelope.encrypted_aes_key, "encrypted_aes_key")
    iv = _b64(envelope.initial_vector, "initial_vector")
    sealed = _b64(envelope.encrypted_flow_data, "encrypted_flow_data")
    if len(iv) != IV_BYTES:
        raise DecryptionError(f"IV has {len(iv)} bytes, not {IV_BYTES}")
    if len(sealed) < TAG_BYTES:
        raise DecryptionError("encrypted_flow_data is shorter than the GCM tag")
    aes_key = unwrap_key(wrapped, keys)
    try:
        plain = AESGCM(aes_key).decrypt(iv, sealed, None)
    except InvalidTag:
        raise DecryptionError("GCM tag does not verify") from None
    try:
        payload = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DecryptionError("plaintext is not UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise DecryptionError("plaintext is not a JSON object")
    return payload, ResponseCipher(aes_key, iv)


def encrypt_request(
    public_key: rsa.RSAPublicKey,
    payload: Mapping[str, Any],
    *,
    aes_key: bytes | None = None,
    iv: bytes | None = None,
) -> tuple[Envelope, ResponseCipher]:
    """Client side: a fresh AES-128 key and IV per request, as the WhatsApp client does."""
    aes_key = aes_key if aes_key is not None else AESGCM.generate_key(bit_length=128)
    iv = iv if iv is not None else os.urandom(IV_BYTES)
    plain = json.dumps(payload, separators=(",", ":")).encode()
    envelope = Envelope(
        encrypted_flow_data=base64.b64encode(AESGCM(aes_key).encrypt(iv, plain, None)).decode(),
        encrypted_aes_key=base64.b64encode(public_key.encrypt(aes_key, OAEP)).decode(),
        initial_vector=base64.b64encode(iv).decode(),
    )
    return envelope, ResponseCipher(aes_key, iv)
