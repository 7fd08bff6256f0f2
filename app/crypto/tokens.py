"""Flow tokens: opaque, signed, expiring, bound to one flow and one contact (wa_id).

Format (clients must treat it as opaque): `fg1.<payload>.<mac>`, where `payload` is
base64url of the compact JSON `{"f": flow, "w": wa_id, "x": expiry unix seconds, "n": nonce}`
and `mac` is base64url HMAC-SHA256 over `fg1.<payload>` with FLOWGATE_TOKEN_SECRET. The random
nonce makes every issued token unique, so a token names one run of a flow (its session and
its submission's dedup key). The default lifetime is 72 hours (Meta advises 2-3 days).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app import clock
from app.errors import FlowgateError

PREFIX = "fg1"
DEFAULT_TTL_SECONDS = 259_200  # 72 h
MAX_TTL_SECONDS = 30 * 86_400
MAX_TOKEN_LENGTH = 512  # FlowSession.flow_token / Submission.flow_token column size


class TokenError(FlowgateError):
    """A flow token that is malformed, forged, expired, or for another flow.

    `reason` is one of `missing`, `malformed`, `non_ascii`, `forged`, `expired`,
    `other_flow`. `non_ascii`: our tokens are pure ASCII (base64url and dots), so a token with
    any other character (a lone surrogate included) is neither ours nor safely storable.
    """

    code = "invalid_flow_token"
    status = 427

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"flow token rejected: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    flow_token: str
    flow: str
    wa_id: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    flow: str
    wa_id: str
    expires_at: datetime


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, signed: str) -> str:
    return _b64e(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def _mac_matches(secret: str, signed: str, presented: str) -> bool:
    """Constant-time comparison of bytes (`hmac.compare_digest` refuses non-ASCII `str`)."""
    return hmac.compare_digest(_mac(secret, signed).encode(), presented.encode("ascii"))


def issue_token(
    secret: str, *, flow: str, wa_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
) -> IssuedToken:
    """A new token for `wa_id` to fill `flow`, valid for `ttl_seconds` from now."""
    if not secret:
        raise ValueError("a token secret is required")
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    expires = int((clock.now() + timedelta(seconds=ttl_seconds)).timestamp())
    claims = {"f": flow, "w": wa_id, "x": expires, "n": secrets.token_urlsafe(12)}
    payload = _b64e(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{PREFIX}.{payload}"
    token = f"{signed}.{_mac(secret, signed)}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("flow name and wa_id are too long for a flow token")
    return IssuedToken(token, flow, wa_id, datetime.fromtimestamp(expires, UTC))


def verify_token(
    secret: str, token: str, *, flow: str | None = None, allow_expired: bool = False
) -> TokenClaims:
    """The token's claims, or TokenError. The MAC is checked before anything is believed.

    `allow_expired`: hand back an expired token's claims too (a late nfm_reply still names
    its flow and contact); every other check stays.
    """
    if not token:
        raise TokenError("missing")
    if not isinstance(token, str):
        raise TokenError("malformed")
    if not token.isascii():
        raise TokenError("non_ascii", "flow token rejected: not ASCII")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("malformed")
    signed = f"{parts[0]}.{parts[1]}"
    if not secret or not _mac_matches(secret, signed, parts[2]):
        raise TokenError("forged")
    try:
        claims = json.loads(_b64d(parts[1]))
        token_flow, wa_id, expires = claims["f"], claims["w"], claims["x"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise TokenError("malformed") from None
    if not (isinstance(token_flow, str) and isinstance(wa_id, str) and isinstance(expires, int)):
        raise TokenError("malformed")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if clock.now() >= expires_at and not allow_expired:
        raise TokenError("expired")
    if flow is not None and token_flow != flow:
        raise TokenError("other_flow")
    return TokenClaims(token_flow, wa_id, expires_at)
