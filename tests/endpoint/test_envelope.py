"""The envelope crypto on its own, with real RSA-2048 keys: round trips and every tampering."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.envelope import (
    OAEP,
    DecryptionError,
    Envelope,
    EnvelopeError,
    ResponseCipher,
    decrypt_request,
    encrypt_request,
    parse_envelope,
)
from app.crypto.keys import load_private_keys
from app.errors import ConfigError

REQUEST = {"version": "3.0", "action": "ping"}


def _flip(b64: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_and_flipped_iv(private_key: rsa.RSAPrivateKey) -> None:
    envelope, client = encrypt_request(private_key.public_key(), REQUEST)
    payload, server = decrypt_request(envelope, [private_key])
    assert payload == REQUEST
    assert server.aes_key == client.aes_key and len(server.aes_key) == 16
    body = server.encrypt({"data": {"status": "active"}})
    # The answer uses the same key and every IV byte XOR 0xFF, with the 16-byte tag appended.
    sealed = base64.b64decode(body)
    flipped = bytes(b ^ 0xFF for b in client.iv)
    assert json.loads(AESGCM(client.aes_key).decrypt(flipped, sealed, None)) == {
        "data": {"status": "active"}
    }
    with pytest.raises(Exception):  # noqa: B017 - the unflipped IV must not open it
        AESGCM(client.aes_key).decrypt(client.iv, sealed, None)
    assert client.decrypt(body) == {"data": {"status": "active"}}


@pytest.mark.parametrize(
    "field,index",
    [
        ("encrypted_flow_data", 0),  # ciphertext
        ("encrypted_flow_data", -1),  # tag (last 16 bytes)
        ("initial_vector", 3),
        ("encrypted_aes_key", 10),
    ],
)
def test_any_tampering_is_a_decryption_error(
    private_key: rsa.RSAPrivateKey, field: str, index: int
) -> None:
    envelope, _ = encrypt_request(private_key.public_key(), REQUEST)
    values = envelope.to_dict()
    values[field] = _flip(values[field], index)
    with pytest.raises(DecryptionError):
        decrypt_request(Envelope(**values), [private_key])


def test_other_key_aes256_and_non_object_plaintext(
    private_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    envelope, _ = encrypt_request(other_key.public_key(), REQUEST)
    with pytest.raises(DecryptionError, match="no loaded private key"):
        decrypt_request(envelope, [private_key])
    # Rotation: the old key is tried after the current one.
    assert decrypt_request(envelope, [private_key, other_key])[0] == REQUEST
    # A 32-byte (AES-256) key is refused even though everything else is right.
    key32, iv = AESGCM.generate_key(bit_length=256), bytes(16)
    envelope = Envelope(
        base64.b64encode(AESGCM(key32).encrypt(iv, b"{}", None)).decode(),
        base64.b64encode(private_key.public_key().encrypt(key32, OAEP)).decode(),
        base64.b64encode(iv).decode(),
    )
    with pytest.raises(DecryptionError, match="AES-128"):
        decrypt_request(envelope, [private_key])
    envelope, _ = encrypt_request(private_key.public_key(), {"a": 1})
    key = ResponseCipher(AESGCM.generate_key(bit_length=128), bytes(range(16)))
    for plain in (b"[1,2]", b"\xff\xfe", b"not json"):
        envelope = Envelope(
            base64.b64encode(AESGCM(key.aes_key).encrypt(key.iv, plain, None)).decode(),
            base64.b64encode(private_key.public_key().encrypt(key.aes_key, OAEP)).decode(),
            base64.b64encode(key.iv).decode(),
        )
        with pytest.raises(DecryptionError):
            decrypt_request(envelope, [private_key])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"null",
        b'{"encrypted_flow_data": "a", "encrypted_aes_key": "b"}',
        b'{"encrypted_flow_data": 1, "encrypted_aes_key": "b", "initial_vector": "c"}',
        b"\xff",
    ],
)
def test_malformed_envelopes(body: bytes) -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(body)


def test_extra_envelope_keys_are_ignored() -> None:
    body = b'{"encrypted_flow_data":"a","encrypted_aes_key":"b","initial_vector":"c","x":1}'
    assert parse_envelope(body).initial_vector == "c"


def test_keys_load_in_every_format(tmp_path, private_key: rsa.RSAPrivateKey) -> None:
    """PKCS#1 and PKCS#8, with and without a passphrase, as Meta's samples produce them."""
    formats = {
        "pkcs1.pem": (serialization.PrivateFormat.TraditionalOpenSSL, None),
        "pkcs8.pem": (serialization.PrivateFormat.PKCS8, None),
        "pkcs1-enc.pem": (serialization.PrivateFormat.TraditionalOpenSSL, b"pw"),
        "pkcs8-enc.pem": (serialization.PrivateFormat.PKCS8, b"pw"),
    }
    for name, (fmt, password) in formats.items():
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        (tmp_path / name).write_bytes(
            private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption)
        )
        loaded = load_private_keys([tmp_path / name], "pw")
        assert loaded[0].private_numbers() == private_key.private_numbers()
    with pytest.raises(ConfigError, match="wrong passphrase"):
        load_private_keys([tmp_path / "pkcs8-enc.pem"], "nope")
    with pytest.raises(ConfigError, match="encrypted"):
        load_private_keys([tmp_path / "pkcs1-enc.pem"], None)
