"""Contacts and their 24-hour windows: open ones closing soonest first, then closed ones."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request, url_for

from app import clock
from app.leads import browse
from app.pagination import decode_cursor, decode_time_cursor, encode_cursor
from app.web import db_session
from app.web.dashboard import bp

PAGE_SIZE = 50


def _after(cursor: str | None) -> tuple[datetime | None, str] | None:
    if not cursor:
        return None
    key = decode_cursor(cursor, ("t", "id"))
    if key["t"] is None:
        return None, str(key["id"])
    at, wa_id = decode_time_cursor(cursor)
    return at, wa_id


@bp.get("/contacts")
def contacts() -> str:
    at = clock.now()
    cursor = request.args.get("cursor") or None
    session = db_session()
    open_rows = browse.open_windows(session, at) if cursor is None else []
    closed, last = browse.closed_windows(session, at, after=_after(cursor), limit=PAGE_SIZE)
    next_url = None
    if last is not None:
        key = {"t": clock.isoformat(last[0]), "id": last[1]}
        next_url = url_for("dashboard.contacts", cursor=encode_cursor(key))
    return render_template(
        "dashboard/contacts.html",
        open_rows=open_rows,
        closed=closed,
        next_url=next_url,
        first_page=cursor is None,
    )
