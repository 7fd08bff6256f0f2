"""Standard Webhooks v1 signatures: `whsec_` secrets and the three `webhook-*` headers.

The signed content is `{webhook-id}.{timestamp}.{raw body}`, HMAC-SHA256 keyed with the
base64-decoded bytes after `whsec_`. During a rotation every valid key signs and the
signatures travel space-separated, so receivers holding either secret verify (spec §1.4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32  # the spec allows 24..64 random bytes


def generate_secret() -> str:
    """A new endpoint secret, `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret (padding is optional, as in the reference libs)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` for this id and attempt timestamp."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(
    msg_id: str, timestamp: int, body: bytes, secrets_: Iterable[str]
) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with every secret given."""
    signatures = " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)
    if not signatures:
        raise ValueError("an attempt needs at least one signing secret")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
