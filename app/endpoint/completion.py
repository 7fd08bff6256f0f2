"""Finish a simulated run as WhatsApp does: the nfm_reply notification Meta posts afterwards.

When a user completes a flow, Meta sends the business a `messages` webhook with an
`interactive.nfm_reply` whose `response_json` is the completion (docs/protocol.md, section
9.1; https://developers.facebook.com/docs/whatsapp/flows/reference/responsemsgwebhook).
For an endpoint-less flow that notification is the only way a lead arrives, so
`flowgate simulate` posts it to the server's `/webhooks/whatsapp`, signed with the app secret
like Meta signs it (X-Hub-Signature-256). For an endpoint flow it is the reply that follows
the SUCCESS screen (deduplicated with the endpoint's lead, docs/leads.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from app.crypto.signatures import hub_signature
from app.endpoint.emulator import nfm_reply_notification

WEBHOOK_PATH = "/webhooks/whatsapp"


def completion_notification(
    completion: Mapping[str, Any], *, wa_id: str, flow_token: str | None, contact_name: str
) -> bytes:
    """The notification body; `response_json` carries the flow token as WhatsApp adds it."""
    response = dict(completion)
    if flow_token is not None:
        response.setdefault("flow_token", flow_token)
    notification = nfm_reply_notification(
        response,
        wa_id=wa_id,
        message_id=f"wamid.simulated-{uuid.uuid4().hex}",
        contact_name=contact_name,
    )
    return json.dumps(notification).encode()


def post_notification(base_url: str, body: bytes, app_secret: str) -> httpx.Response:
    """POST `body` to the server's Meta webhook, signed as Meta signs it."""
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": hub_signature(app_secret, body),
    }
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=10.0) as client:
        return client.post(WEBHOOK_PATH, content=body, headers=headers)


def latest_lead(base_url: str, api_token: str, *, flow: str, wa_id: str) -> dict[str, Any] | None:
    """The newest submission of `flow` from `wa_id` through the admin API, if it answers."""
    try:
        with httpx.Client(base_url=base_url.rstrip("/"), timeout=10.0) as client:
            response = client.get(
                "/api/v1/submissions",
                params={"flow": flow, "wa_id": wa_id, "limit": 1},
                headers={"Authorization": f"Bearer {api_token}"},
            )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    items = response.json().get("items") or []
    return items[0] if items else None
