"""Where a contact came from: a Flowgate link's `ref`, or a Click-to-WhatsApp ad referral.

A link made by `flowgate links create --ref spring` pre-fills the user's first message with
`(ref: spring)` (app/automations/links.py); the referral of a message that came from an ad is
Meta's `referral` object (docs/protocol.md §9.1). The first such source is kept for good
(`first_source`, `first_ref`: "first touch"); `last_ref` follows the newest one.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.leads.sanitize import clean_text
from app.models import ContactAutomation

REF_PATTERN = re.compile(r"\(ref: ?([A-Za-z0-9_.-]{1,64})\)")
REF_CHARS = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LINK, AD = "link", "ad"
REFERRAL_KEYS = (
    "source_url",
    "source_id",
    "source_type",
    "headline",
    "body",
    "media_type",
    "image_url",
    "video_url",
    "thumbnail_url",
    "ctwa_clid",
)


def ref_in(text: str | None) -> str | None:
    """The campaign ref a Flowgate link put in the message text, if the user kept it."""
    match = REF_PATTERN.search(text or "")
    return match.group(1) if match else None


def referral_of(message: dict[str, Any]) -> dict[str, Any] | None:
    """The Click-to-WhatsApp referral of an inbound message (known keys, text only), or None."""
    raw = message.get("referral")
    if not isinstance(raw, dict):
        return None
    out = {k: clean_text(raw[k])[:2000] for k in REFERRAL_KEYS if isinstance(raw.get(k), str)}
    return out or None


@cache
def _statement(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    insert = module.insert(ContactAutomation)
    new, old = insert.excluded, ContactAutomation.__table__.c
    newer = (old.last_ref_at.is_(None)) | (new.last_ref_at >= old.last_ref_at)
    return insert.on_conflict_do_update(
        index_elements=[old.wa_id],
        set_={
            "first_source": func.coalesce(old.first_source, new.first_source),
            "first_ref": case((old.first_source.is_(None), new.first_ref), else_=old.first_ref),
            "first_at": func.coalesce(old.first_at, new.first_at),
            "last_ref": case((newer, new.last_ref), else_=old.last_ref),
            "last_ref_at": case((newer, new.last_ref_at), else_=old.last_ref_at),
            "updated_at": new.updated_at,
        },
    )


def record_source(session: Session, wa_id: str, source: str, ref: str | None, at: datetime) -> None:
    """Note that `wa_id` arrived through `source` (`link` | `ad`) with `ref` at `at`."""
    ref = (ref or "")[:128] or None
    session.execute(
        _statement(session.get_bind().dialect.name),
        {
            "wa_id": wa_id,
            "first_source": source,
            "first_ref": ref,
            "first_at": at,
            "last_ref": ref,
            "last_ref_at": at,
            "updated_at": at,
        },
    )
