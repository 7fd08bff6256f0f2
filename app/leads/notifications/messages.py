"""`messages` changes: inbound user messages update contacts; nfm_replies become leads.

Every inbound user message counts for the 24-hour window (docs/contract.md), whatever its type:
text, media, button, interactive (an nfm_reply included), reaction, and types we do not know
(they are noted, not refused; a user did write to us). `system` messages (a user changed
number) are Meta's, not the user's, and do not count. A message without a usable timestamp
updates the name but not the window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.flowjson.submission import error
from app.leads.contacts import record_inbound, valid_wa_id
from app.leads.intake import Intake, add_late_errors, record_submission
from app.leads.notifications.isolation import isolated
from app.leads.notifications.reader import (
    ProcessingContext,
    Report,
    items,
    obj,
    text,
    unix_time,
)
from app.leads.notifications.routing import find_flow, unrouted_error
from app.leads.notifications.statuses import record_status
from app.leads.rerouting import route_unrouted
from app.leads.sanitize import load_json
from app.leads.triggers import note_message
from app.models.enums import LeadSource

KNOWN_TYPES = frozenset(
    {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "button",
        "interactive",
        "reaction",
        "order",
        "unsupported",
        "unknown",
        "request_welcome",
    }
)
NOT_FROM_USER = frozenset({"system"})


def process_messages_change(
    session: Session, ctx: ProcessingContext, value: dict[str, Any], where: str, report: Report
) -> None:
    """One `messages` change: its contacts' names, its messages, its statuses."""
    names: dict[str, str] = {}
    for raw in items(value.get("contacts")):
        contact = obj(raw) or {}
        wa_id = valid_wa_id(contact.get("wa_id"))
        name = text((obj(contact.get("profile")) or {}).get("name"))
        if wa_id is not None and name is not None:
            names[wa_id] = name
    senders = list(names)
    for i, raw in enumerate(items(value.get("messages"))):
        _process_message(session, ctx, raw, names, senders, f"{where}.messages[{i}]", report)
    for i, raw in enumerate(items(value.get("statuses"))):
        with isolated(session, report, f"{where}.statuses[{i}]", None):
            record_status(session, ctx, raw, f"{where}.statuses[{i}]", report)


def _process_message(
    session: Session,
    ctx: ProcessingContext,
    raw: Any,
    names: dict[str, str],
    senders: list[str],
    where: str,
    report: Report,
) -> None:
    message = obj(raw)
    if message is None:
        report.note(where, "message is not an object")
        return
    kind = text(message.get("type"), 64)
    if kind in NOT_FROM_USER:
        return
    report.messages += 1
    # `from` may be absent in newer payloads (§9.1): a lone contact is then the sender.
    wa_id = valid_wa_id(message.get("from")) or (senders[0] if len(senders) == 1 else None)
    at = unix_time(message.get("timestamp"))
    message_id = text(message.get("id"), 128)
    if kind is None:
        report.note(where, "message without a type (counted as inbound)")
    elif kind not in KNOWN_TYPES:
        report.note(where, f"unknown message type {kind!r} (counted as inbound)")
    if at is None:
        report.note(where, "message without a usable timestamp (window unchanged)")
    contact = None  # held here so the session's identity map keeps it for the lead below
    if wa_id is None:
        report.note(where, "message without a usable sender")
    else:
        # The window, the message.received event and the automation triggers in one
        # savepoint, the lead in another: a failing lead still counts as the user's message
        # (isolation.py); the triggers are written in this transaction (app/leads/triggers.py).
        with isolated(session, report, where, message_id):
            contact = record_inbound(
                session, wa_id, at=at, name=names.get(wa_id), message_id=message_id
            )
            key = message_id or f"nf:{ctx.notification_key[:40]}:{where}"
            note_message(
                session,
                message,
                wa_id=wa_id,
                wamid=message_id,
                key=key,
                kind=kind,
                at=at,
                name=names.get(wa_id),
            )
    interactive = obj(message.get("interactive"))
    if kind == "interactive" and interactive is not None and interactive.get("type") == "nfm_reply":
        if message_id is None:  # still one lead per message when Meta left the id out
            message_id = f"nf:{ctx.notification_key[:40]}:{where}"[:128]
        with isolated(session, report, where, message_id):
            _process_nfm_reply(
                session, ctx, message, interactive, wa_id, names, at, message_id, where, report
            )
    del contact


def _process_nfm_reply(
    session: Session,
    ctx: ProcessingContext,
    message: dict[str, Any],
    interactive: dict[str, Any],
    wa_id: str | None,
    names: dict[str, str],
    at: datetime | None,
    message_id: str,
    where: str,
    report: Report,
) -> None:
    nfm = obj(interactive.get("nfm_reply"))
    if nfm is None:
        report.note(where, "nfm_reply is not an object")
        return
    if nfm.get("name") not in (None, "flow"):  # e.g. address_message: not a Flow
        return
    response, problem = _response(nfm.get("response_json"))
    context_id = text((obj(message.get("context")) or {}).get("id"), 128)
    route = find_flow(session, ctx, response or {}, wa_id, context_id)
    extra = list(route.errors)
    if route.flow is None:  # kept as an `unrouted` lead, never dropped (docs/leads.md)
        report.unmatched += 1
        report.note(where, f"nfm_reply {message_id} matched no flow ({route.via})")
        extra.append(unrouted_error(route.via))
    if route.existing is not None:
        add_late_errors(route.existing, extra)
        _fill_sender(route.existing, wa_id, names.get(wa_id) if wa_id else None)
        report.duplicates += 1
        return
    if problem is not None:
        report.note(where, problem)
        extra.append(error(None, "malformed_response_json", problem.capitalize() + "."))
    intake = Intake(
        flow=route.flow,
        fields=response or {},
        source=LeadSource.WEBHOOK,
        wa_id=wa_id,
        contact_name=names.get(wa_id) if wa_id else None,
        flow_token=route.token,
        message_id=message_id,
        submitted_at=at,
        extra_errors=tuple(extra),
    )
    submission, created = record_submission(session, ctx.registry, intake)
    if created:
        report.submissions += 1
    elif route.flow is not None and route_unrouted(session, ctx.registry, submission, route.flow):
        report.submissions += 1  # stored unrouted before; a flow claims it now
    else:
        report.duplicates += 1


def _response(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """`response_json` parsed (it is a JSON string; an object is tolerated), or a problem."""
    if isinstance(raw, dict):
        return raw, None
    if not isinstance(raw, str):
        return None, "response_json is missing or not a string"
    try:
        parsed = load_json(raw)
    except (ValueError, RecursionError):
        return None, "response_json is not valid JSON"
    if not isinstance(parsed, dict):
        return None, "response_json is not a JSON object"
    return parsed, None


def _fill_sender(submission: Any, wa_id: str | None, name: str | None) -> None:
    """An endpoint run on a foreign token cannot know its user; its nfm_reply tells us.

    Only missing values are filled (never overwritten), so a redelivery changes nothing.
    """
    if submission.wa_id is None and wa_id is not None:
        submission.wa_id = wa_id
    if submission.contact_name is None and name:
        submission.contact_name = name[:256]
