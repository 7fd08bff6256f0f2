"""Builders of Meta webhook notifications and a signed poster for the leads tests.

Shapes follow docs/protocol.md §9 (the nfm_reply one comes from emulator, the same
builder `flowgate simulate` uses); every post is signed like Meta signs it.
"""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.crypto.signatures import hub_signature
from app.crypto.tokens import issue_token
from app.db import Database
from app.endpoint.emulator import nfm_reply_notification
from app.models import (
    Contact,
    Delivery,
    Event,
    FlowAlert,
    InboundNotification,
    MessageStatus,
    Submission,
    WebhookEndpoint,
)
from tests.conftest import APP_SECRET

TOKEN_SECRET = "test-token-secret"  # tests/conftest.py settings
PATH = "/webhooks/whatsapp"
T0 = 1_790_000_000  # 2026-09-21T14:13:20Z, a Meta-style Unix timestamp

LEAD = {
    "name": "Ana Souza",
    "phone": "+55 11 91234-5678",
    "email": "ana@example.com",
    "service": "installation",
    "preferred_date": "2026-12-01",
}


def token_for(wa_id: str, flow: str = "lead_capture") -> str:
    return issue_token(TOKEN_SECRET, flow=flow, wa_id=wa_id).flow_token


def nfm_reply(
    fields: dict[str, Any],
    *,
    wa_id: str = "5511912345678",
    message_id: str = "wamid.reply1",
    token: str | None = None,
    name: str = "Ana",
    timestamp: int = T0,
    context_id: str | None = None,
) -> dict[str, Any]:
    completion = dict(fields)
    if token is not None:
        completion["flow_token"] = token
    return nfm_reply_notification(
        completion,
        wa_id=wa_id,
        message_id=message_id,
        context_id=context_id,
        contact_name=name,
        timestamp=timestamp,
    )


def messages_change(value: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", **value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "100000000000000", "changes": [{"field": "messages", "value": value}]}],
    }


def text_message(wa_id: str, message_id: str, timestamp: int, name: str = "Ana") -> dict:
    return messages_change(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id,
                    "timestamp": str(timestamp),
                    "type": "text",
                    "text": {"body": "hi"},
                }
            ],
        }
    )


def status(message_id: str, wa_id: str, state: str, timestamp: int, code: int | None = None):
    item: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": wa_id,
    }
    if code is not None:
        item["errors"] = [
            {
                "code": code,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "More than 24 hours have passed since the recipient "
                    "last replied to the sender number."
                },
            }
        ]
    return messages_change({"statuses": [item]})


def flow_alert(event: str = "ENDPOINT_ERROR_RATE", flow_id: str = "4242") -> dict[str, Any]:
    value = {
        "event": event,
        "message": "Flow Lead capture's endpoint error rate has reached the 10% threshold",
        "flow_id": flow_id,
        "alert_state": "ACTIVATED",
        "threshold": 10,
        "error_rate": 12.5,
        "errors": [{"error_type": "TIMEOUT", "error_rate": 12.5, "error_count": 25}],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "100000000000000", "time": T0, "changes": [{"field": "flows", "value": value}]}
        ],
    }


def body_of(payload: dict[str, Any] | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def post(
    client: FlaskClient,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = APP_SECRET,
    signature: str | None = None,
) -> TestResponse:
    """POST `payload` as Meta would: raw bytes, signed with `secret` (or a given header)."""
    body = body_of(payload)
    headers = {"Content-Type": "application/json"}
    header = signature if signature is not None else hub_signature(secret, body)
    if header:
        headers["X-Hub-Signature-256"] = header
    return client.post(PATH, data=body, headers=headers)


def counts(db: Database) -> dict[str, int]:
    """Rows per table this area writes."""
    models = {
        "notifications": InboundNotification,
        "submissions": Submission,
        "events": Event,
        "deliveries": Delivery,
        "contacts": Contact,
        "statuses": MessageStatus,
        "alerts": FlowAlert,
    }
    with db.session() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in models.items()
        }


def add_endpoint(db: Database) -> None:
    """A subscribed customer endpoint, so each valid lead writes a Delivery too."""
    with db.transaction() as session:
        session.add(
            WebhookEndpoint(
                url="http://127.0.0.1:9/hook", events=["flow.submitted"], secret="whsec_dGVzdA=="
            )
        )


def event_types(db: Database) -> list[str]:
    """The types of the stored events, sorted."""
    with db.session() as session:
        return sorted(session.scalars(select(Event.type)))


def one(db: Database, model: Any) -> Any:
    with db.session() as session:
        return session.scalars(select(model)).one()
