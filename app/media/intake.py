"""The two insertions intake makes for a lead with files (app/leads/intake.py calls them in
its transaction): media rows next to the lead, and the hold on its flow.submitted event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.clock import now
from app.media.extract import Upload
from app.media.records import attach_uploads, hold_event, pending_entries
from app.media.types import flow_media_types

if TYPE_CHECKING:
    from app.flowjson.registry import FlowRegistry


def store_uploads(
    session: Session,
    registry: FlowRegistry,
    flow: str,
    submission_id: str,
    uploads: Sequence[Upload],
) -> None:
    """Pending media rows for the lead, with the flow's own type allow-list if it has one."""
    if not uploads:
        return
    try:
        module = registry.get(flow).module
    except Exception:  # unknown or unservable flow: the default allow-list applies
        module = None
    attach_uploads(session, submission_id, flow, uploads, flow_media_types(module), now())


def add_media(data: dict[str, Any], uploads: Sequence[Upload]) -> dict[str, Any]:
    """The event data with its `media` list (only when the lead has files)."""
    if uploads:
        data["media"] = pending_entries(uploads)
    return data


def hold(session: Session, event_id: str, uploads: Sequence[Upload]) -> None:
    """Hold the lead's event until its files are settled (app/media/records.py)."""
    if uploads:
        hold_event(session, event_id, now())
