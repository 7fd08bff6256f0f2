"""Who is signed in to the dashboard, and the CSRF token of their forms.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Path=/dashboard, Secure when
the request came over HTTPS), signed with a key derived from FLOWGATE_TOKEN_SECRET. It holds
no secret: a *principal* `{"kind", "id", "at"}` and a random CSRF token. Today the only kind
is `token` (signed in with one of FLOWGATE_API_TOKENS; `id` is an HMAC fingerprint of that
token, never the token), so removing a token from the configuration ends its sessions at the
next request. Named users fit later as another kind (`{"kind": "user", "id": <user id>}`)
checked against their own table; views only ever see `Principal`. docs/dashboard.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface

from app.web import runtime

LIFETIME = timedelta(hours=12)
COOKIE = "flowgate_dashboard"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Principal:
    """The signed-in party: `kind` "token" for an admin token (named users later)."""

    kind: str
    id: str


class DashboardSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request itself was HTTPS.

    Behind a proxy, HTTPS is known from X-Forwarded-Proto as far as the server trusts it
    (gunicorn: `forwarded_allow_ips`); SESSION_COOKIE_SECURE=True forces it everywhere.
    """

    salt = "flowgate-dashboard-session"

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return forced or request.is_secure


def _derive(token_secret: str | None, purpose: bytes) -> bytes:
    # FLOWGATE_TOKEN_SECRET is required to serve (app/settings_check.py); one key per purpose.
    return hmac.new((token_secret or "").encode(), purpose, hashlib.sha256).digest()


def configure(app: Flask) -> None:
    """Cookie settings and the signing key (derived: one more secret to manage is one too many)."""
    if not app.secret_key:
        from app.web import runtime

        token_secret = runtime(app).config.token_secret
        app.secret_key = _derive(token_secret, b"flowgate dashboard session")
    app.session_interface = DashboardSessions()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_PATH="/dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=LIFETIME,
    )


def _fingerprint(token: str) -> str:
    key = _derive(runtime().config.token_secret, b"flowgate dashboard token id")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def check_token(presented: str) -> str | None:
    """The fingerprint of the configured admin token equal to `presented`, else None.

    Compared with every configured token, in constant time, with no early exit.
    """
    found: str | None = None
    given = presented.strip().encode()
    for configured in runtime().config.api_tokens:
        if hmac.compare_digest(given, configured.encode()) and given:
            found = _fingerprint(configured)
    return found


def sign_in(fingerprint: str) -> None:
    """Start a fresh session (a new CSRF token too: no fixation across sign-in)."""
    g.pop("dashboard_principal", None)
    session.clear()
    session.permanent = True
    session["who"] = {"kind": "token", "id": fingerprint, "at": int(time.time())}
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def sign_out() -> None:
    g.pop("dashboard_principal", None)
    session.clear()


def current() -> Principal | None:
    """The signed-in principal, or None when the session is absent, expired or revoked
    (worked out once per request)."""
    if "dashboard_principal" not in g:
        g.dashboard_principal = _principal()
    principal: Principal | None = g.dashboard_principal
    return principal


def _principal() -> Principal | None:
    who = session.get("who")
    if not isinstance(who, dict) or who.get("kind") != "token":
        return None
    issued, fingerprint = who.get("at"), who.get("id")
    if not isinstance(issued, int) or not isinstance(fingerprint, str):
        return None
    if time.time() - issued > LIFETIME.total_seconds():
        return None
    ok = False
    for configured in runtime().config.api_tokens:
        ok |= hmac.compare_digest(fingerprint, _fingerprint(configured))
    return Principal("token", fingerprint) if ok else None


def csrf_token() -> str:
    """This session's CSRF token (created on first use, e.g. by the sign-in form)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok(submitted: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not submitted:
        return False
    return hmac.compare_digest(submitted.encode(), expected.encode())
