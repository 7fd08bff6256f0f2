"""The one door every submission goes through, from the endpoint and from Meta's webhook.

`record_submission` cleans (NUL characters out, the flow token and Meta's keys are not
fields), deduplicates, validates against the flow's schema, stores the lead valid or invalid
(an invalid lead is still a lead) and, for a new valid lead, writes the `flow.submitted`
outbox rows, all in the caller's transaction (it never commits).

Deduplication (docs/leads.md):
- an endpoint submission is keyed `token:<flow>:<flow_token>`: one run of a flow is one lead;
- a webhook submission is keyed `message:<wamid>`: Meta's redelivery of the same message is
  the same lead;
- a webhook submission whose flow and flow token match an earlier endpoint submission is that
  submission (the nfm_reply that follows every endpoint completion adds nothing).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.automations.triggers import note_submission
from app.clock import isoformat, now
from app.delivery.outbox import enqueue_event
from app.errors import FlowgateError
from app.ids import new_id
from app.leads.contacts import NAME_MAX, valid_wa_id
from app.leads.sanitize import clean_text, clip
from app.leads.validation import error, split_fields, validate_fields
from app.leads.window import WindowState, window_state
from app.models import Contact, Submission

if TYPE_CHECKING:
    from app.flowjson.registry import FlowDefinition, FlowRegistry

log = logging.getLogger("flowgate.leads")

SOURCES = ("endpoint", "webhook")
_TABLE = Submission.__table__
# Built once (this runs for every lead; building a statement costs more than running it).
_FIND = select(_TABLE.c.id).where(_TABLE.c.dedup_key.in_(bindparam("keys", expanding=True)))
_INSERT = insert(_TABLE)
_COLUMNS = [c.name for c in _TABLE.c]
# The lead, unless a row with one of its dedup keys exists: one statement for the check and
# the insert (the common case is new); RETURNING says whether it was stored.
_STORE = (
    insert(_TABLE)
    .from_select(
        _COLUMNS,
        select(*(bindparam(f"new_{c.name}", type_=c.type) for c in _TABLE.c)).where(
            ~exists().where(_TABLE.c.dedup_key.in_(bindparam("keys", expanding=True)))
        ),
    )
    .returning(_TABLE.c.id)
)
EVENT_TYPE = "flow.submitted"
TOKEN_MAX = 512
MESSAGE_ID_MAX = 128


@dataclass(frozen=True)
class Intake:
    """One completed flow as a path saw it, before cleaning and validation."""

    flow: str
    fields: dict[str, Any]
    source: str  # "endpoint" | "webhook"
    wa_id: str | None
    contact_name: str | None = None
    flow_token: str | None = None
    message_id: str | None = None
    submitted_at: datetime | None = None  # default clock.now()
    extra_errors: tuple[dict[str, Any], ...] = ()  # e.g. token issued for another wa_id


def token_key(flow: str, token: str) -> str:
    """Dedup key of one run of `flow` (long foreign tokens are hashed to fit the column)."""
    if len(token) > TOKEN_MAX:
        token = "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    return f"token:{flow}:{token}"


def message_key(message_id: str) -> str:
    """Dedup key of a webhook submission: the wamid of the nfm_reply."""
    return f"message:{message_id}"


def record_submission(
    session: Session, registry: FlowRegistry, intake: Intake
) -> tuple[Submission, bool]:
    """Store `intake` as a lead unless it is already stored; returns (submission, created).

    A duplicate changes nothing, except that an error learned late (an nfm_reply from another
    wa_id than the token's) marks the stored lead invalid with that error.
    """
    if intake.source not in SOURCES:
        raise ValueError(f"unknown submission source {intake.source!r}")
    token = clean_text(intake.flow_token) or None
    message_id = clean_text(intake.message_id) or None
    if message_id is not None and len(message_id) > MESSAGE_ID_MAX:
        message_id = None
    extra = [clean_text(dict(e)) for e in intake.extra_errors]

    keys = [token_key(intake.flow, token)] if token else []
    if message_id and intake.source == "webhook":
        keys.append(message_key(message_id))

    submission_id = new_id()
    if intake.source == "endpoint" or not message_id:
        dedup_key = token_key(intake.flow, token) if token else f"submission:{submission_id}"
    else:
        dedup_key = message_key(message_id)

    # Cleaned and validated before the dedup check: it is part of the insert below (wasted
    # only on a duplicate, which is rare).
    fields = split_fields(clean_text(dict(intake.fields)))
    errors = extra + _validate(registry, intake.flow, fields)
    wa_id = clean_text(intake.wa_id) or None
    if wa_id is not None and valid_wa_id(wa_id) is None:
        errors.append(error(None, "bad_wa_id", "The sender's WhatsApp id is not usable."))
        wa_id = None
    contact = session.get(Contact, wa_id) if wa_id else None
    name = clean_text(intake.contact_name) or (contact.profile_name if contact else None)
    submitted_at = intake.submitted_at or now()

    values = {
        "id": submission_id,
        "flow": intake.flow,
        "wa_id": wa_id,
        "contact_name": clip(name, NAME_MAX),
        "flow_token": token if token and len(token) <= TOKEN_MAX else None,
        "source": intake.source,
        "status": "invalid" if errors else "valid",
        "fields": fields,
        "errors": errors,
        "dedup_key": dedup_key,
        "message_id": message_id,
        "submitted_at": submitted_at,
        "received_at": now(),
    }
    # A cached Core statement (the ORM's unit of work costs more than the INSERT); the row is
    # then handed to the session as a loaded one: callers get a normal, persistent
    # Submission, and later dedup queries in this transaction see it.
    conn = session.connection()
    params = {f"new_{column}": value for column, value in values.items()}
    if conn.execute(_STORE, {**params, "keys": keys or [dedup_key]}).first() is None:
        found = conn.execute(_FIND, {"keys": keys}).scalar()
        existing = session.get(Submission, found) if found is not None else None
        if existing is not None:
            add_late_errors(existing, extra)
            return existing, False
        conn.execute(_INSERT, values)  # deleted in between: store it after all
    submission = Submission(**values)
    make_transient_to_detached(submission)
    session.add(submission)
    if not errors:
        data = event_data(submission, window_state(contact, submitted_at))
        enqueue_event(session, EVENT_TYPE, data, submission_id=submission.id)
        note_submission(session, data)  # automations' flow.submitted trigger (app/automations)
    return submission, True


def event_data(submission: Submission, window: WindowState) -> dict[str, Any]:
    """The `data` of a flow.submitted event, exactly as design.md "Events" lists it."""
    return {
        "submission_id": submission.id,
        "flow": submission.flow,
        "flow_token": submission.flow_token,
        "wa_id": submission.wa_id,
        "contact_name": submission.contact_name,
        "submitted_at": isoformat(submission.submitted_at),
        "source": submission.source,
        "fields": submission.fields,
        "window": window.to_dict(),
    }


def _validate(registry: FlowRegistry, flow: str, fields: Mapping[str, Any]) -> list[dict]:
    definition = _definition(registry, flow)
    if definition is None:
        return [error(None, "unknown_flow", f"No flow named {flow!r} is configured.")]
    return validate_fields(getattr(definition, "schema", None), fields)


def _definition(registry: FlowRegistry, flow: str) -> FlowDefinition | None:
    try:
        return registry.get(flow)
    except (LookupError, FlowgateError):
        return None


def add_late_errors(submission: Submission, extra: list[dict[str, Any]]) -> None:
    """Mark a stored lead invalid with errors learned after it was stored (once each)."""
    new = [e for e in extra if e not in (submission.errors or [])]
    if not new:
        return
    log.warning(
        "submission %s marked invalid by a later notification: %s",
        submission.id,
        ", ".join(str(e.get("code")) for e in new),
    )
    submission.errors = [*(submission.errors or []), *new]
    submission.status = "invalid"
