"""`send_message`: one message to one contact, with the 24-hour window enforced.

Order of checks (each refuses before anything is sent or stored):
1. the request itself (fields that belong to its `type`, a servable flow, screen data): 400;
2. sending configured (access token and phone number id): 503 `sending_not_configured`;
3. free-form kinds (`text`, `flow`) need an open window (docs/protocol.md §10.1): otherwise
   409 `window_closed` naming `expires_at` and `closed_reason`, and Meta is not called.
   Templates may be sent whatever the window;
4. the Graph API call: a refusal is a 502 with Meta's code and message. Meta's 131047
   ("Re-engagement message") closes the contact's window exactly as the status webhook does
   (`app.leads.contacts.record_re_engagement_error`), so the window API agrees at once;
5. on success an `OutboundMessage` is stored under Meta's wamid, with the flow and token, so
   an nfm_reply that lacks its token (iOS) is routed by `context.id` (app/leads routing).
Outbound messages never extend the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.clock import isoformat, now
from app.errors import Conflict, FlowgateError
from app.flowjson.registry import FlowRegistry
from app.leads.contacts import record_re_engagement_error
from app.leads.notifications.statuses import RE_ENGAGEMENT_CODE
from app.leads.window import WindowState, window_state
from app.messaging.flow_ids import with_stored_flow_id
from app.messaging.graph import (
    GraphApiError,
    GraphClient,
    SendingNotConfigured,
    sent_message_id,
)
from app.messaging.payloads import FREE_FORM, MessageRequest
from app.messaging.prepare import Prepared, prepare
from app.models import Contact, OutboundMessage

log = logging.getLogger("flowgate.messaging")


class WindowClosed(Conflict):
    """A free-form message to a contact whose 24-hour window is closed (only templates go)."""

    code = "window_closed"


@dataclass(frozen=True)
class SentMessage:
    wamid: str
    wa_id: str
    kind: str
    flow: str | None
    flow_token: str | None
    sent_at: datetime
    window: WindowState


def send_message(
    session: Session,
    registry: FlowRegistry,
    token_secret: str | None,
    client: GraphClient | None,
    request: MessageRequest,
) -> SentMessage:
    """Send `request` (see the module docstring). Owns the session's transactions: it
    commits the 131047 window closure and the stored OutboundMessage."""
    prepared = prepare(registry, token_secret, with_stored_flow_id(session, request))
    if client is None:
        raise SendingNotConfigured(
            "Sending is not configured: set FLOWGATE_ACCESS_TOKEN and FLOWGATE_PHONE_NUMBER_ID."
        )
    state = window_state(session.get(Contact, prepared.wa_id), now())
    if prepared.kind in FREE_FORM and not state.open:
        raise _closed(prepared, state)
    session.commit()  # no transaction stays open during the network call
    try:
        answer = client.send(prepared.body)
    except GraphApiError as exc:
        if exc.meta_code == RE_ENGAGEMENT_CODE:
            _close_window(session, prepared.wa_id)
        raise
    wamid = sent_message_id(answer)
    sent_at = now()
    try:
        _store(session, prepared, wamid, sent_at)
    except SQLAlchemyError:
        session.rollback()
        log.exception("message %s to %s was sent but could not be stored", wamid, prepared.wa_id)
        raise FlowgateError(
            "The message was sent but could not be recorded; replies to it may not be routed.",
            code="sent_not_recorded",
            status=500,
            details={"id": wamid, "wa_id": prepared.wa_id},
        ) from None
    log.info("sent %s message %s to %s", prepared.kind, wamid, prepared.wa_id)
    return SentMessage(
        wamid, prepared.wa_id, prepared.kind, prepared.flow, prepared.flow_token, sent_at, state
    )


def _close_window(session: Session, wa_id: str) -> None:
    """Meta's 131047 as the status webhook records it; a database failure here must not
    hide Meta's answer from the caller (the status webhook will record it again)."""
    try:
        record_re_engagement_error(session, wa_id, at=now())
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not record the 131047 refusal for %s", wa_id)


def _store(session: Session, prepared: Prepared, wamid: str, sent_at: datetime) -> None:
    if session.get(OutboundMessage, wamid) is not None:
        # Meta never reuses a wamid; if it did, the first record stands.
        log.warning("Meta answered with an already stored message id %s", wamid)
        return
    session.add(
        OutboundMessage(
            id=wamid,
            wa_id=prepared.wa_id,
            kind=prepared.kind,
            flow=prepared.flow,
            flow_token=prepared.flow_token,
            payload=prepared.body,
            sent_at=sent_at,
        )
    )
    session.commit()


def _closed(prepared: Prepared, state: WindowState) -> WindowClosed:
    expires = isoformat(state.expires_at)
    if state.last_inbound_at is None:  # never wrote to us: there is no expiry to show
        why = f"{state.closed_reason}: this contact has not written yet, so no window opened"
    else:
        why = f"{state.closed_reason}; expires_at {expires}, 24 h after their last message"
    return WindowClosed(
        f"The 24-hour customer service window of {prepared.wa_id} is closed ({why}): only "
        "templates can be sent.",
        details={
            "wa_id": prepared.wa_id,
            "window_open": False,
            "last_inbound_at": isoformat(state.last_inbound_at),
            "expires_at": expires,
            "closed_reason": state.closed_reason,
        },
    )
