"""RSA key pairs of the Flow data endpoint: generate, store, load (with rotation).

WhatsApp encrypts each request's AES key to the business public key; we keep the private
half. Keys are parsed once at startup (parsing is slow and the endpoint has a 1 s budget),
and several may be loaded at once so a rotation drops no request: the first is current,
the others are tried after it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.errors import ConfigError

KEY_SIZE = 2048


def generate_private_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key, the size Meta's endpoint encryption uses."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def private_pem(key: rsa.RSAPrivateKey, passphrase: str | None) -> bytes:
    """PKCS#8 PEM, encrypted with the passphrase when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """The SubjectPublicKeyInfo PEM to upload to Meta."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` so that only the owner can ever read it (created 0600, not chmod-ed later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_private_key(path: Path, passphrase: str | None) -> rsa.RSAPrivateKey:
    """Load one PEM private key (PKCS#1 or PKCS#8, encrypted or not), or explain why not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read private key {path}: {exc.strerror}") from None
    password = passphrase.encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        # Raised both for "encrypted but no passphrase" and "passphrase but not encrypted".
        if password is None:
            raise ConfigError(
                f"private key {path} is encrypted: set FLOWGATE_PRIVATE_KEY_PASSPHRASE"
            ) from None
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise ConfigError(
            f"cannot load private key {path}: not a PEM RSA key or wrong passphrase"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"private key {path} is not an RSA key")
    if key.key_size != KEY_SIZE:
        raise ConfigError(f"private key {path} has {key.key_size} bits; Meta requires 2048")
    return key


def load_private_keys(paths: Sequence[Path], passphrase: str | None) -> list[rsa.RSAPrivateKey]:
    """Load every configured key, current first; one unusable key is a startup error."""
    if not paths:
        raise ConfigError("no private key configured (FLOWGATE_PRIVATE_KEY_FILE)")
    return [load_private_key(Path(p), passphrase) for p in paths]
