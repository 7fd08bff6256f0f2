"""The Flask shell: blueprints that translate HTTP to core calls and back.

Where a request goes: `/flows/<flow>/endpoint` → `endpoint.py`; `/webhooks/whatsapp` →
`meta.py`; `/api/v1/...` → `api/<area>.py`; `/healthz` → `health.py`; `/dashboard/...` →
`dashboard/` (HTML pages for people). Errors become JSON in
`errors.py`.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from app.runtime import Runtime


def runtime(app: Flask | None = None) -> Runtime:
    """The Runtime (config, database, keys, flows) that `create_app` attached to `app`,
    by default the current app: the one way views, the endpoint shell and commands reach it."""
    rt: Runtime = (app or current_app).extensions["flowgate"]
    return rt


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = runtime().db.session()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def register_web(app: Flask) -> None:
    """Attach every blueprint and the JSON error handlers to `app`."""
    from app.web import api, connection, dashboard, endpoint, errors, health, meta, metrics, ready

    errors.register(app)
    connection.register(app)
    app.teardown_appcontext(_close_session)
    app.register_blueprint(health.bp)
    app.register_blueprint(ready.bp)
    endpoint.register(app)
    app.register_blueprint(meta.bp)
    api.register(app)
    app.register_blueprint(metrics.bp)
    from app.web import media_files

    app.register_blueprint(media_files.bp)
    dashboard.register(app)
