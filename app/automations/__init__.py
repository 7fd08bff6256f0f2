"""Automations inside the 24-hour window (docs/automations.md).

`rules` reads and checks the rules file; what happened is written by lead processing, in its
own transaction (app/leads/triggers.py, with where a contact came from in
app/leads/attribution.py); `evaluate` turns a trigger into intended sends; `sends` and `runner`
send them from the worker, exactly once as far as Meta's API allows; `links` makes wa.me links
and QR codes.

Every process that handles Meta's status webhooks calls `install()` once (the app factory,
`flowgate worker`, `flowgate inbox reprocess`), so that statuses of automated sends update them.
"""

from __future__ import annotations


def install() -> None:
    """Let Meta's status webhooks update automated sends (idempotent)."""
    from app.automations.sends import apply_status
    from app.leads.notifications.statuses import SEND_STATUS_LISTENERS

    if apply_status not in SEND_STATUS_LISTENERS:
        SEND_STATUS_LISTENERS.append(apply_status)
