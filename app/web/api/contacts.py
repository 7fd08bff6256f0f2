"""`/api/v1/contacts/<wa_id>/window`: may the business message this contact freely now?"""

from __future__ import annotations

import re
from typing import Any

from app.api.schemas.contacts import ContactWindowSchema
from app.clock import now
from app.errors import InvalidRequest
from app.leads.contacts import valid_wa_id
from app.leads.window import window_state
from app.models import Contact
from app.web import db_session
from app.web.api import route

# Meta's wa_id: the phone number's digits with the country code, no + (docs/protocol.md).
WA_ID_FORMAT = re.compile(r"[0-9]+")


@route(
    "/contacts/<wa_id>/window",
    summary="The 24-hour customer service window of a contact (any wa_id, known or not)",
    tag="contacts",
    response=ContactWindowSchema,
    errors=(400,),
)
def contact_window(wa_id: str) -> dict[str, Any]:
    if not WA_ID_FORMAT.fullmatch(wa_id):
        raise InvalidRequest(
            f"{wa_id!r} is not a WhatsApp id: digits only, country code first, without + or "
            "spaces (e.g. 447700900123 for +44 7700 900123), as Meta's webhooks write it.",
            details={"wa_id": ["digits only, country code first, e.g. 447700900123"]},
        )
    # Anything that cannot be a stored wa_id (too long) is simply a contact never seen.
    contact = db_session().get(Contact, wa_id) if valid_wa_id(wa_id) else None
    state = window_state(contact, now())
    return {
        "wa_id": wa_id,
        "window_open": state.open,
        "last_inbound_at": state.last_inbound_at,
        "expires_at": state.expires_at,
        "closed_reason": state.closed_reason,
    }
