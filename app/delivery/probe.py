"""`flowgate webhooks test ID`: one signed `webhook.test` event, sent now, answer shown.

Why not through the outbox: an operator setting up a receiver wants to see at once what it
answers (status, body, time), without waiting for a worker or leaving a delivery to retry.
The attempt is a real one (app/delivery/transport.py): the SSRF guard, a pinned connection,
no redirects, Standard Webhooks headers signed with every current secret of the endpoint
(docs/delivery.md), so a receiver that accepts it accepts real events too. Nothing is stored.
The event is sent whether or not the endpoint subscribes to `webhook.test`.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.delivery.claims import signing_secrets
from app.delivery.pinning import pinned_client
from app.delivery.transport import AttemptResult, AttemptSettings, post_once
from app.models import WebhookEndpoint
from app.models.enums import EventType
from app.models.outbox import new_event_id, serialise


def probe_event(endpoint: WebhookEndpoint) -> tuple[str, dict[str, Any]]:
    """(webhook-id, envelope) of a test event for `endpoint`."""
    now = clock.now()
    return new_event_id(), {
        "type": str(EventType.WEBHOOK_TEST),
        "timestamp": now,
        "data": {
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "message": "A test event from `flowgate webhooks test`: verify it, answer 2xx.",
        },
    }


def send_probe(endpoint: WebhookEndpoint, settings: AttemptSettings) -> AttemptResult:
    """Send one test event to `endpoint` now and return how the attempt ended."""
    msg_id, envelope = probe_event(endpoint)
    secrets = signing_secrets(
        endpoint.secret,
        endpoint.previous_secret,
        endpoint.previous_secret_expires_at,
        clock.now(),
    )
    with pinned_client(max_connections=1) as client:
        return post_once(
            client, endpoint.url, msg_id, serialise(envelope).encode(), secrets, settings
        )
