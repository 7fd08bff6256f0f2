"""End to end: a Flow message sent through the API, then Meta's nfm_reply without its flow
token (the iOS case, docs/protocol.md §9.1) routed by `context.id` to the right flow."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import Database
from app.models import Submission
from tests.leads.meta import LEAD, T0, nfm_reply, post
from tests.messaging.conftest import WA, open_window
from tests.messaging.fake_graph import FakeGraph

FLOW_MESSAGE = {
    "wa_id": WA,
    "type": "flow",
    "flow": "lead_capture",
    "meta_flow_id": "1234567890",
    "body": "Tell us how to reach you",
    "cta": "Open form",
}


def submissions(db: Database) -> list[Submission]:
    with db.session() as session:
        return list(session.scalars(select(Submission)))


def test_reply_without_token_is_routed_by_the_sent_message_id(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    open_window(sender)
    sent = sender.post("/api/v1/messages", json=FLOW_MESSAGE, headers=api_headers)
    assert sent.status_code == 201, sent.get_json()
    wamid, token = sent.get_json()["id"], sent.get_json()["flow_token"]
    assert graph.requests[0].body["interactive"]["action"]["parameters"]["flow_token"] == token

    reply = nfm_reply(
        LEAD, wa_id=WA, message_id="wamid.reply-ios", context_id=wamid, timestamp=T0 + 600
    )
    assert (
        "flow_token"
        not in reply["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"][
            "response_json"
        ]
    )
    assert post(sender, reply).status_code == 200

    [lead] = submissions(db)
    assert (lead.flow, lead.flow_token, lead.wa_id, lead.source) == (
        "lead_capture",
        token,
        WA,
        "webhook",
    )
    assert lead.status == "valid", lead.errors
    assert lead.fields == LEAD
    listed = sender.get("/api/v1/submissions", headers=api_headers).get_json()["items"]
    assert [(s["flow"], s["flow_token"], s["status"]) for s in listed] == [
        ("lead_capture", token, "valid")
    ]


def test_reply_to_an_unknown_message_is_not_routed_by_context(
    sender: FlaskClient, api_headers: dict[str, str], graph: FakeGraph, db: Database
) -> None:
    """The control: the same reply pointing at a wamid we never sent finds no flow that way."""
    open_window(sender)
    assert (
        sender.post("/api/v1/messages", json=FLOW_MESSAGE, headers=api_headers).status_code == 201
    )
    reply = nfm_reply(
        LEAD, wa_id=WA, message_id="wamid.reply-x", context_id="wamid.other", timestamp=T0 + 600
    )
    assert post(sender, reply).status_code == 200
    assert [s.flow_token for s in submissions(db) if s.flow == "lead_capture"] in ([], [None])
