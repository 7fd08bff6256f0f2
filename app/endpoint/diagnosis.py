"""What to change when a simulated request is refused: 421, 427 and 432 in plain words.

The endpoint answers these codes without saying more (docs/endpoint.md: 432 for a bad
X-Hub-Signature-256, 421 when the body cannot be decrypted, 427 for a refused flow token),
because a real client must learn nothing from them. `flowgate simulate` holds the other side
of every check (the app secret it signed with, the public key it encrypted to, the token it
sent), so it can say which one differs from the server's.
"""

from __future__ import annotations

from app.crypto.tokens import TokenError, verify_token

TOKEN_REASONS = {
    "missing": "no flow token was sent (pass --flow-token, or let simulate issue one)",
    "malformed": "the flow token is not one Flowgate issued (malformed)",
    "forged": "the token's signature does not match this instance's FLOWGATE_TOKEN_SECRET",
    "expired": "the flow token has expired (issue a new one: `flowgate tokens issue`)",
    "other_flow": "the flow token was issued for another flow",
}


def explain(status: int | None, *, flow: str, token: str | None, token_secret: str | None) -> str:
    """One or two sentences for a refused request; empty for other statuses."""
    if status == 432:
        return (
            "432: the server refused the X-Hub-Signature-256: the app secret differs from the "
            "server's. Use the same FLOWGATE_APP_SECRET here as on the server."
        )
    if status == 421:
        return (
            "421: the server could not decrypt the request: the server has another private "
            "key than the public key used here. Run `flowgate keys public` on the server and "
            "pass that file with --public-key (or use the server's FLOWGATE_PRIVATE_KEY_FILE)."
        )
    if status == 427:
        return "427: the server refused the flow token: " + _token_check(flow, token, token_secret)
    if status == 404:
        return f"404: the server does not serve a flow named {flow!r} (see its /readyz)."
    return ""


def _token_check(flow: str, token: str | None, token_secret: str | None) -> str:
    if not token:
        return TOKEN_REASONS["missing"] + "."
    if not token_secret:
        return "this instance has no FLOWGATE_TOKEN_SECRET to check the token against."
    try:
        verify_token(token_secret, token, flow=flow)
    except TokenError as exc:
        return TOKEN_REASONS.get(exc.reason, exc.reason) + "."
    return (
        "the token is valid for this instance, so the server's FLOWGATE_TOKEN_SECRET differs "
        "from this one (or, with Data API 4.0, its FLOWGATE_APP_SECRET does: the "
        "flow_token_signature is signed with the app secret)."
    )
