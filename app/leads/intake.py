"""The one door every submission goes through, from the endpoint and from Meta's webhook.

`record_submission` cleans (NUL characters out, the flow token and Meta's keys are not
fields), deduplicates, validates against the flow's schema, stores the lead valid, invalid
or unrouted (a reply that matched no flow: `flow` None) and writes the outbox rows of a new
lead (`flow.submitted` for a valid one, `submission.invalid` with its `errors` for the
others: docs/leads.md), all in the caller's transaction (it never commits).

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
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, insert, or_, select
from sqlalchemy.orm import Session

from app.clock import isoformat, now
from app.crypto.tokens import MAX_TOKEN_LENGTH
from app.flowjson.registry import FlowRegistry
from app.flowjson.submission import error
from app.ids import new_id
from app.leads.contacts import NAME_MAX, addressable_wa_id, valid_wa_id
from app.leads.sanitize import clean_text, clip
from app.leads.triggers import note_submission
from app.leads.validation import split_fields
from app.leads.window import WindowState, window_state
from app.media.extract import Upload, extract_uploads
from app.media.intake import add_media, hold, store_uploads
from app.metrics.committed import note_lead
from app.models import Contact, Submission
from app.models.enums import EventType, LeadSource, SubmissionStatus
from app.models.outbox import enqueue_event
from app.prepared import Prepared, attach_loaded, connection, pipelined

log = logging.getLogger("flowgate.leads")

SOURCES = tuple(LeadSource)
_TABLE = Submission.__table__
# Built once (this runs for every lead; building a statement costs more than running it).
_FIND = select(_TABLE.c.id).where(_TABLE.c.dedup_key.in_(bindparam("keys", expanding=True)))
_INSERT = insert(_TABLE)
_COLUMNS = [c.name for c in _TABLE.c]
# The lead, unless a row with one of its dedup keys exists: one statement for the check and
# the insert (the common case is new); RETURNING says whether it was stored.
# Run on the driver's cursor (app/prepared.py); a lead has at most two dedup keys (the second
# repeats the first when there is one).
_STORE = Prepared(
    insert(_TABLE)
    .from_select(
        _COLUMNS,
        select(*(bindparam(f"new_{c.name}", type_=c.type) for c in _TABLE.c)).where(
            ~exists().where(
                or_(
                    _TABLE.c.dedup_key == bindparam("key_a"),
                    _TABLE.c.dedup_key == bindparam("key_b"),
                )
            )
        ),
    )
    .returning(_TABLE.c.id)
)
EVENT_TYPE = EventType.FLOW_SUBMITTED
WA_ID_COLUMN = 32
BAD_WA_ID = (
    "The sender's WhatsApp ID is not 5 to 20 digits; it is stored as received, "
    "but no contact or 24-hour window can be tied to it."
)
MESSAGE_ID_MAX = 128


@dataclass(frozen=True)
class Intake:
    """One completed flow as a path saw it, before cleaning and validation."""

    flow: str | None  # None: a reply that matched no flow (stored `unrouted`)
    fields: dict[str, Any]
    source: LeadSource | str  # checked against SOURCES
    wa_id: str | None
    contact_name: str | None = None
    flow_token: str | None = None
    message_id: str | None = None
    submitted_at: datetime | None = None  # default clock.now()
    extra_errors: tuple[dict[str, Any], ...] = ()  # e.g. token issued for another wa_id


def token_key(flow: str | None, token: str) -> str:
    """Dedup key of one run of `flow` (long foreign tokens are hashed to fit the column)."""
    if len(token) > MAX_TOKEN_LENGTH:
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

    flow = intake.flow
    keys = [token_key(flow, token)] if token and flow is not None else []
    if message_id and intake.source == LeadSource.WEBHOOK:
        keys.append(message_key(message_id))

    submission_id = new_id()
    if intake.source == LeadSource.WEBHOOK and message_id:
        dedup_key = message_key(message_id)
    elif token and flow is not None:
        dedup_key = token_key(flow, token)
    else:
        dedup_key = f"submission:{submission_id}"

    # Cleaned and validated before the dedup check: it is part of the insert below (wasted
    # only on a duplicate, which is rare).
    fields = split_fields(clean_text(dict(intake.fields)))
    errors = extra + (_validate(registry, flow, fields) if flow is not None else [])
    # picker values become media ids (docs/media.md); an unrouted reply keeps them as sent
    fields, uploads = extract_uploads(fields) if flow is not None else (fields, [])
    wa_id = clean_text(intake.wa_id) or None
    if wa_id is not None and not addressable_wa_id(wa_id):
        # Kept as received (clipped to the column) so the lead can still be traced; flagged.
        errors.append(error(None, "bad_wa_id", BAD_WA_ID))
        wa_id = wa_id[:WA_ID_COLUMN]
    contact = session.get(Contact, wa_id) if wa_id and valid_wa_id(wa_id) else None
    name = clean_text(intake.contact_name) or (contact.profile_name if contact else None)
    submitted_at = intake.submitted_at or now()

    values = {
        "id": submission_id,
        "flow": flow,
        "wa_id": wa_id,
        "contact_name": clip(name, NAME_MAX),
        "flow_token": token if token and len(token) <= MAX_TOKEN_LENGTH else None,
        "source": intake.source,
        "status": _status(flow, errors),
        "fields": fields,
        "errors": errors,
        "dedup_key": dedup_key,
        "message_id": message_id,
        "submitted_at": submitted_at,
        "received_at": now(),
    }
    # A prebuilt statement (the ORM's unit of work costs more than the INSERT); the row is
    # then handed to the session as a loaded one: callers get a normal, persistent
    # Submission, and later dedup queries in this transaction see it.
    conn = connection(session)
    params = {f"new_{column}": value for column, value in values.items()}
    checked = keys or [dedup_key]
    if not _STORE.rows(conn, {**params, "key_a": checked[0], "key_b": checked[-1]}):
        found = conn.execute(_FIND, {"keys": keys}).scalar()
        existing = session.get(Submission, found) if found is not None else None
        if existing is not None:
            log.info(
                "lead duplicate: flow %s, source %s, submission %s (already stored)",
                existing.flow,
                intake.source,
                existing.id,
            )
            add_late_errors(existing, extra)
            return existing, False
        conn.execute(_INSERT, values)  # deleted in between: store it after all
    submission = attach_loaded(session, Submission, values)
    note_lead(session, flow if flow and registry.get(flow) else None, intake.source,
              values["status"])  # fmt: skip
    if flow is not None:
        store_uploads(session, registry, flow, submission.id, uploads)
    announce(session, submission, contact, uploads)
    _log_stored(submission)
    return submission, True


def _log_stored(submission: Submission) -> None:
    """One line per stored lead; the errors by code only (values are personal data)."""
    if submission.status == SubmissionStatus.VALID:
        log.info(
            "lead stored valid: flow %s, source %s, submission %s",
            submission.flow,
            submission.source,
            submission.id,
        )
        return
    log.warning(
        "lead stored %s: flow %s, source %s, submission %s, errors: %s",
        submission.status,
        submission.flow,
        submission.source,
        submission.id,
        ", ".join(sorted({str(e.get("code")) for e in submission.errors or []})),
    )


def announce(
    session: Session,
    submission: Submission,
    contact: Contact | None,
    uploads: Sequence[Upload] = (),
) -> None:
    """The lead's event: `flow.submitted` when valid (with its files, held until they are
    settled: docs/media.md), else `submission.invalid` + errors."""
    data = event_data(submission, window_state(contact, submission.submitted_at))
    if submission.status == SubmissionStatus.VALID:
        data = add_media(data, uploads)
        session.flush()  # nothing of the ORM's left to write inside the pipeline below
        # PostgreSQL: the event, its deliveries and the trigger in one round trip (their
        # answers are not needed; an error is raised at the block's end, in this transaction).
        with pipelined(connection(session)) if not uploads else nullcontext():
            event = enqueue_event(session, EVENT_TYPE, data, submission_id=submission.id)
            hold(session, event.id, uploads)
            note_submission(session, data)  # automations' flow.submitted trigger
    else:
        data["errors"] = submission.errors
        enqueue_event(session, EventType.SUBMISSION_INVALID, data, submission_id=submission.id)


def _status(flow: str | None, errors: list[dict[str, Any]]) -> SubmissionStatus:
    if flow is None:
        return SubmissionStatus.UNROUTED
    return SubmissionStatus.INVALID if errors else SubmissionStatus.VALID


def event_data(submission: Submission, window: WindowState) -> dict[str, Any]:
    """The `data` of a flow.submitted event, exactly as docs/contract.md "Events" lists it."""
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
    """The flow's own validator judges the lead (the same object judged each screen)."""
    definition = registry.get(flow)
    if definition is None:
        return [error(None, "unknown_flow", f"No flow named {flow!r} is configured.")]
    return definition.validator.check(fields)


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
    submission.status = SubmissionStatus.INVALID
