"""Sign-in with an admin token, sign-out, and the dashboard's front door.

The token travels only in a POSTed form field (`token`): never in a URL, a cookie or a log
line. A refusal is logged with the client address only.
"""

from __future__ import annotations

import logging

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.web import runtime
from app.web.dashboard import bp, session

log = logging.getLogger("flowgate.dashboard")


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if target and target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return url_for("dashboard.leads")


def _hint() -> dict[str, bool]:
    return {"tokens_configured": bool(runtime().config.api_tokens)}


@bp.get("/")
def index() -> Response:
    return redirect(url_for("dashboard.leads"), 302)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if session.current() is not None:
            return redirect(target, 303)
        return render_template("dashboard/login.html", next=target, error=None, **_hint())
    fingerprint = session.check_token(request.form.get("token", ""))
    if fingerprint is None:
        log.warning("dashboard sign-in refused from %s", request.remote_addr)
        page = render_template(
            "dashboard/login.html",
            next=target,
            error="That token is not one of this server's admin tokens.",
            **_hint(),
        )
        return page, 401
    session.sign_in(fingerprint)
    log.info("dashboard sign-in from %s", request.remote_addr)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    session.sign_out()
    return redirect(url_for("dashboard.login"), 303)
