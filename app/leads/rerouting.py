"""An unrouted lead finds its flow later: `flowgate inbox reprocess` after a flow was added.

An nfm_reply that matched no flow is stored `unrouted` under its message's dedup key
(docs/leads.md). Reprocessing the notification routes the reply again; when a flow now
claims it, the stored lead (not a second one) takes that flow, is validated against it and
announced again (`flow.submitted` or `submission.invalid`), in the caller's transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.leads.intake import _validate, announce
from app.models import Contact, Submission
from app.models.enums import SubmissionStatus

if TYPE_CHECKING:
    from app.flowjson.registry import FlowRegistry

log = logging.getLogger("flowgate.leads")


def route_unrouted(
    session: Session, registry: FlowRegistry, submission: Submission, flow: str
) -> bool:
    """Give an `unrouted` lead its `flow`; False (nothing changed) for any other lead."""
    if submission.status != SubmissionStatus.UNROUTED or submission.flow is not None:
        return False
    kept = [e for e in (submission.errors or []) if e.get("code") != "unrouted"]
    errors = kept + _validate(registry, flow, submission.fields or {})
    submission.flow = flow
    submission.errors = errors
    submission.status = SubmissionStatus.INVALID if errors else SubmissionStatus.VALID
    session.flush()
    contact = session.get(Contact, submission.wa_id) if submission.wa_id else None
    announce(session, submission, contact)
    log.info(
        "lead %s routed later to flow %s (%s, source %s)",
        submission.id,
        flow,
        submission.status,
        submission.source,
    )
    return True
