"""All Flowgate models; importing this package registers every table on `Base.metadata`."""

from app.models.automations import (
    AutomationThrottle,
    AutomationTrigger,
    ContactAutomation,
    MessageSend,
)
from app.models.base import Base, UTCDateTime
from app.models.contacts import Contact
from app.models.inbox import FlowAlert, InboundNotification, MessageStatus, OutboundMessage
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
    "FlowSession",
    "InboundNotification",
    "MessageSend",
    "MessageStatus",
    "OutboundMessage",
    "Submission",
    "UTCDateTime",
    "WebhookEndpoint",
]
