"""Data API 4.0 `flow_token_signature`: an HS256 JWT signed with the Meta app secret.

Meta says only that its payload "contains the flow token" and leaves the claim name
UNCONFIRMED (protocol.md §4.1, §7.2). How we read it, tolerant but fail-closed:
1. the signature must verify with one of the configured app secrets, algorithm HS256 only
   (no `none`, no algorithm confusion), and a present `exp`/`nbf` is honoured (60 s leeway);
2. the claim `flow_token` must equal the request's flow token; when the payload has no
   `flow_token` claim, any other top-level string claim equal to it is accepted (so a
   differently named claim such as `token` or `sub` still works).
A signature that fails either step makes the request's token invalid (427).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

import jwt

CLAIM = "flow_token"
LEEWAY_SECONDS = 60


class SignatureError(Exception):
    """The flow_token_signature does not verify or does not carry the request's token."""


def _decode(signature: str, secrets: Sequence[str]) -> dict[str, Any]:
    for secret in secrets:
        try:
            claims = jwt.decode(
                signature,
                secret,
                algorithms=["HS256"],
                leeway=LEEWAY_SECONDS,
                options={"require": [], "verify_aud": False, "verify_iss": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise SignatureError(f"flow_token_signature rejected: {type(exc).__name__}") from None
        if isinstance(claims, dict):
            return claims
    raise SignatureError("flow_token_signature does not verify with any app secret")


def verify_flow_token_signature(signature: str, flow_token: str, secrets: Sequence[str]) -> None:
    """Raise SignatureError unless `signature` is a valid HS256 JWT over `flow_token`."""
    if not isinstance(signature, str) or not isinstance(flow_token, str) or not flow_token:
        raise SignatureError("flow_token_signature needs a flow token to sign")
    claims = _decode(signature, secrets)
    if CLAIM in claims:
        candidates = [claims[CLAIM]]
    else:
        candidates = [value for value in claims.values() if isinstance(value, str)]
    if not any(
        isinstance(c, str) and hmac.compare_digest(_raw(c), _raw(flow_token)) for c in candidates
    ):
        raise SignatureError("flow_token_signature is for another flow token")


def _raw(text: str) -> bytes:
    """Bytes to compare; `surrogatepass` so a lone surrogate in a claim compares unequal
    instead of raising (JSON can spell one as an escape)."""
    return text.encode("utf-8", "surrogatepass")


def sign_flow_token(flow_token: str, secret: str, **claims: Any) -> str:
    """Client side (emulator, tests): what Meta sends with Data API 4.0."""
    return jwt.encode({CLAIM: flow_token, **claims}, secret, algorithm="HS256")
