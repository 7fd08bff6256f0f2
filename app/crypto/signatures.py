"""X-Hub-Signature-256: Meta's HMAC-SHA256 of the raw request body with the app secret.

Used on the Flow data endpoint and on Meta's webhooks. Checked on the exact raw bytes (never
re-serialised JSON), in constant time, against every configured secret so a rotation of the
app secret drops no request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

PREFIX = "sha256="


def hub_signature(secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (also used by the emulator and tests)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hub_signature(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex>` of `body` under any of `secrets`.

    No secret configured means nothing verifies (fail closed). Every secret is compared, with
    no early exit, so timing does not reveal which one matched.
    """
    if not header or not secrets:
        return False
    presented = header.strip().lower().encode()
    ok = False
    for secret in secrets:
        ok |= hmac.compare_digest(presented, hub_signature(secret, body).encode())
    return ok
