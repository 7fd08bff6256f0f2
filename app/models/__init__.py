"""All Flowgate models; importing this package registers every table on `Base.metadata`."""

from app.models.automations import (
    AutomationThrottle,
    AutomationTrigger,
    ContactAutomation,
    MessageSend,
)
from app.models.base import Base, UTCDateTime
from app.models.contacts import Contact
from app.models.health import FlowHealthMinute, FlowHealthState
from app.models.inbox import FlowAlert, InboundNotification, MessageStatus
from app.models.media import MediaFile
from app.models.messages import OutboundMessage
from app.models.metaflows import MetaFlow
from app.models.sessions import FlowSession
from app.models.submissions import Submission
from app.models.webhooks import Delivery, DeliveryAttempt, Event, WebhookEndpoint

__all__ = [
    "AutomationThrottle",
    "AutomationTrigger",
    "Base",
    "Contact",
    "ContactAutomation",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "FlowAlert",
    "FlowHealthMinute",
    "FlowHealthState",
    "FlowSession",
    "InboundNotification",
    "MediaFile",
    "MessageSend",
    "MessageStatus",
    "MetaFlow",
    "OutboundMessage",
    "Submission",
    "UTCDateTime",
    "WebhookEndpoint",
]
