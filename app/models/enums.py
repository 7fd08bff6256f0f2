"""Named vocabularies stored in the database and sent in events.

Each is a `StrEnum`, so a member compares equal to the bare string the database holds and
serialises to it unchanged: rows written before these names existed still match.
"""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    """A lead's state. `unrouted`: a reply that matched no flow, kept rather than dropped."""

    VALID = "valid"
    INVALID = "invalid"
    UNROUTED = "unrouted"


class LeadSource(StrEnum):
    """How a lead arrived: the Flow data endpoint or Meta's nfm_reply webhook."""

    ENDPOINT = "endpoint"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    """One event to one webhook endpoint (docs/delivery.md)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class InboxStatus(StrEnum):
    """A raw notification from Meta: stored, then processed or kept for reprocessing."""

    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"
    INVALID = "invalid"  # not a notification at all (answered 400), kept for inspection


class EventType(StrEnum):
    """Event types a webhook endpoint can subscribe to (docs/delivery.md, "Events")."""

    FLOW_SUBMITTED = "flow.submitted"
    SUBMISSION_INVALID = "submission.invalid"
    MESSAGE_RECEIVED = "message.received"
    WINDOW_EXPIRING = "window.expiring"
    FLOW_HEALTH_CHANGED = "flow.health_changed"
    # Sent only by `flowgate webhooks test`, to any endpoint, subscribed or not (docs/delivery.md).
    WEBHOOK_TEST = "webhook.test"


class MediaStatus(StrEnum):
    """An uploaded file (docs/media.md): waiting, stored, failed (with a reason) or purged."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"
    PURGED = "purged"
