"""Flows (served or not, findings, the public key) and the inbox of notifications."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import clock
from app.crypto.keys import public_pem
from app.leads import browse
from app.leads.inbox import Inbox, reprocess
from app.web import db_session, runtime
from app.web.dashboard import bp, slots


@bp.get("/flows")
def flows() -> str:
    rt = runtime()
    definitions = rt.registry.all() if rt.registry is not None else []
    key = public_pem(rt.private_keys[0]).decode() if rt.private_keys else None
    return render_template(
        "dashboard/flows.html",
        flows=definitions,
        public_key=key,
        flows_dir=str(rt.config.flows_dir),
    )


@bp.get("/inbox")
def inbox() -> str:
    view = browse.inbox(db_session(), clock.now())
    return render_template("dashboard/inbox.html", inbox=view)


@bp.post("/inbox/reprocess")
def inbox_reprocess() -> Response:
    """Reprocess one notification (`id`) or every failed and stuck one."""
    rt = runtime()
    ids = [request.form["id"]] if request.form.get("id") else []
    receipts = reprocess(Inbox(rt.db, rt.registry, rt.config.token_secret), ids, limit=500)
    done = sum(1 for r in receipts if r.status == "processed")
    flash(
        f"Reprocessed {len(receipts)}: {done} processed, {len(receipts) - done} still failing.",
        "ok" if done == len(receipts) else "warn",
    )
    return redirect(url_for("dashboard.inbox"), 303)


@bp.get("/messages")
def messages() -> str:
    return render_template("dashboard/messages.html", filled=slots.filled("messages"))
