"""A lead's first-touch source in the CSV export: `first_touch_source`, `first_touch_ref`.

The contact's first source (a Flowgate link's ref or a Click-to-WhatsApp ad, see
app/leads/attribution.py) is merged into each exported row's fields by the database,
so the export's fast path (app/export/batch.py) writes them like any field. The two columns
appear only when some contact has a first-touch source, so exports of deployments that do
not use links or ads keep their exact columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, case, cast, exists, func, select
from sqlalchemy.orm import Session

from app.models import ContactAutomation, Submission

COLUMNS = ("first_touch_source", "first_touch_ref")


def first_touch_present(session: Session) -> bool:
    """Does any contact have a first-touch source (read inside the export's snapshot)?"""
    return bool(session.scalar(select(exists().where(ContactAutomation.first_source.is_not(None)))))


def _pairs() -> tuple[Any, ...]:
    contact = ContactAutomation.__table__.c
    wa_id = Submission.__table__.c.wa_id
    source = select(contact.first_source).where(contact.wa_id == wa_id).scalar_subquery()
    ref = select(contact.first_ref).where(contact.wa_id == wa_id).scalar_subquery()
    return (COLUMNS[0], source, COLUMNS[1], ref)


def merged_jsonb() -> Any:
    """PostgreSQL: the stored jsonb with the contact's first touch merged in (still jsonb)."""
    return Submission.__table__.c.fields.op("||")(func.jsonb_build_object(*_pairs()))


def with_first_touch(fields: Any, postgresql: bool) -> Any:
    """`fields` (the export's JSON text expression) with the contact's first touch merged in."""
    if postgresql:
        return cast(merged_jsonb(), Text)
    pairs = _pairs()
    # json_patch (RFC 7396) drops the null members: a missing value is an empty cell.
    patched = func.json_patch(fields, func.json_object(*pairs))
    return case((func.json_valid(fields) == 1, patched), else_=fields)
