"""`/webhooks/whatsapp`: Meta's subscription handshake and its signed notifications.

GET answers the handshake (docs/protocol.md §9.3). POST checks X-Hub-Signature-256 on the
raw bytes before anything is parsed (missing 401, wrong 403, every configured app secret
tried, none configured: nothing verifies), then hands the bytes to `app.leads.inbox`, which
stores them durably and processes them in the same request (docs/leads.md). The answer is
200 once the notification is stored, whatever processing did, so Meta does not retry what
we already keep; 400 only for a body that is not a notification at all.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, jsonify, request

from app.crypto.signatures import verify_hub_signature
from app.leads.inbox import INVALID, Inbox, receive
from app.metrics.counters import count_notification
from app.web import runtime
from app.web.errors import error_response

log = logging.getLogger("flowgate.meta")
bp = Blueprint("meta", __name__)

PATH = "/webhooks/whatsapp"
MAX_NOTIFICATION_BYTES = 8 * 1024 * 1024  # Meta batches; far above any real notification


@bp.get(PATH)
def handshake() -> Response:
    """`hub.challenge` as plain text when mode and verify token match, else 403."""
    expected = runtime().config.verify_token
    mode = request.args.get("hub.mode", "")
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    ok = bool(expected) and hmac.compare_digest(token.encode(), (expected or "").encode())
    if mode != "subscribe" or not ok or not challenge:
        log.warning(
            "Meta webhook handshake refused (403): %s",
            "FLOWGATE_VERIFY_TOKEN is not set"
            if not expected
            else "hub.verify_token does not match FLOWGATE_VERIFY_TOKEN (the Verify token "
            "entered in the app's WhatsApp webhook settings)"
            if not ok
            else f"hub.mode {mode[:32]!r} or no hub.challenge",
        )
        return _plain("Forbidden", 403)
    log.info("Meta webhook handshake answered")
    return _plain(challenge, 200)


@bp.post(PATH)
def notification() -> Response:
    """Verify, store, process; see the module docstring for the status codes."""
    length = request.content_length
    if length is not None and length > MAX_NOTIFICATION_BYTES:
        return error_response(413, "too_large", "Notification body is too large.")
    body = request.stream.read(MAX_NOTIFICATION_BYTES + 1)  # bounded even when chunked
    if len(body) > MAX_NOTIFICATION_BYTES:
        return error_response(413, "too_large", "Notification body is too large.")
    header = request.headers.get("X-Hub-Signature-256")
    rt = runtime()
    if not header:
        log.warning("Meta notification refused (401): no X-Hub-Signature-256 header")
        count_notification("rejected")
        return error_response(401, "missing_signature", "X-Hub-Signature-256 is required.")
    if not verify_hub_signature(rt.config.app_secrets, body, header):
        count_notification("rejected")
        log.warning(
            "Meta notification refused (403): X-Hub-Signature-256 does not match; check that "
            "FLOWGATE_APP_SECRET is the App Secret of the Meta app that sends the webhooks%s",
            "" if rt.config.app_secrets else " (it is not set)",
        )
        return error_response(403, "bad_signature", "X-Hub-Signature-256 does not match.")
    receipt = receive(Inbox(rt.db, rt.registry, rt.config.token_secret), body)
    count_notification("duplicate" if receipt.duplicate else receipt.status)
    if receipt.status == INVALID:
        return error_response(
            400,
            "malformed_notification",
            f"Not a WhatsApp notification: {receipt.problem}. It was kept for inspection.",
            {"notification_id": receipt.notification_id},
        )
    return jsonify(
        {
            "status": receipt.status,
            "notification_id": receipt.notification_id,
            "duplicate": receipt.duplicate,
        }
    )


def _plain(text: str, status: int) -> Response:
    response = Response(text, status=status, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
