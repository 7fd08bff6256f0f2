"""The dashboard at /dashboard/: server-rendered pages for the people who use Flowgate daily.

Every page reads through core functions (app/leads/browse.py, app/export/query.py,
app/delivery/subscriptions.py, ...); views only parse the request and render. Pages work without
JavaScript; static/dashboard.js adds local times, live countdowns and a refreshing lead list.
Sign-in, the session cookie and CSRF: session.py. Decisions: docs/dashboard.md.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from app.errors import FlowgateError
from app.web.dashboard import formatting, session, slots

log = logging.getLogger("flowgate.dashboard")

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# View modules (app/web/dashboard/<name>.py); each adds its routes to `bp`.
PAGES = ["auth", "leads", "contacts", "webhooks", "operations"]
PUBLIC = {"dashboard.login", "dashboard.static"}

# The pages' own assets only; no inline script or style anywhere (docs/dashboard.md).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@bp.before_request
def _guard() -> BaseResponse | None:
    """Signed in for every page but the sign-in form; a valid CSRF token on every POST."""
    if request.method == "POST" and not session.csrf_ok(request.form.get(session.CSRF_FIELD)):
        log.warning("dashboard form refused: missing or wrong CSRF token (%s)", request.path)
        return error_page(
            400,
            "This form has expired",
            "The page was open too long or came from elsewhere. Go back, reload and try again.",
        )
    if request.endpoint in PUBLIC:
        return None
    if session.current() is None:
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")), 303)
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _context() -> dict[str, Any]:
    return {
        "csrf_token": session.csrf_token,
        "principal": session.current(),
        "slot": slots.render,
        "nav": NAV,
    }


NAV = [
    ("dashboard.leads", "Leads"),
    ("dashboard.contacts", "Contacts"),
    ("dashboard.webhooks", "Webhooks"),
    ("dashboard.flows", "Flows"),
    ("dashboard.inbox", "Inbox"),
    ("dashboard.messages", "Messages"),
]


def error_page(status: int, title: str, message: str) -> Response:
    body = render_template("dashboard/error.html", title=title, message=message, status=status)
    return Response(body, status=status, mimetype="text/html")


@bp.errorhandler(FlowgateError)
def _flowgate_error(exc: FlowgateError) -> Response:
    return error_page(exc.status, "That did not work", exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    titles = {404: "Not found", 405: "Not allowed"}
    return error_page(
        exc.code or 500, titles.get(exc.code or 0, exc.name), exc.description or exc.name
    )


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("dashboard page failed")  # the traceback goes to the log, never the page
    return error_page(500, "Something went wrong", "The error was logged. Try again shortly.")


def register(app: Flask) -> None:
    """Mount the blueprint with its session settings and template filters."""
    for page in PAGES:
        import_module(f"app.web.dashboard.{page}")
    if "dashboard" in app.blueprints:
        return
    session.configure(app)
    formatting.install(app)
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", lambda: redirect("/dashboard/", 302))
