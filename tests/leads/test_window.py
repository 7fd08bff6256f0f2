"""The 24-hour window: edges with the settable clock, out-of-order notifications, statuses,
the contacts API, and the window state carried by flow.submitted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from app import clock
from app.db import Database
from app.models import Contact, Event, MessageStatus, OutboundMessage
from tests.leads.meta import (
    LEAD,
    T0,
    add_endpoint,
    counts,
    nfm_reply,
    one,
    post,
    status,
    text_message,
    token_for,
)

WA = "5511912345678"
AT = datetime.fromtimestamp(T0, UTC)


def window(client: FlaskClient, headers: dict[str, str], wa_id: str = WA) -> dict:
    response = client.get(f"/api/v1/contacts/{wa_id}/window", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_unknown_contact_has_a_closed_window(
    client: FlaskClient, api_headers: dict[str, str]
) -> None:
    assert window(client, api_headers, "491700000000") == {
        "wa_id": "491700000000",
        "window_open": False,
        "last_inbound_at": None,
        "expires_at": None,
        "closed_reason": "no_inbound_message",
    }


def test_window_api_needs_the_bearer_token(client: FlaskClient) -> None:
    assert client.get(f"/api/v1/contacts/{WA}/window").status_code == 401


@pytest.mark.parametrize(
    ("offset", "is_open", "reason"),
    [
        (timedelta(0), True, None),
        (timedelta(hours=24, seconds=-1), True, None),
        (timedelta(hours=24), False, "expired"),  # now < last + 24 h is strict
        (timedelta(hours=24, seconds=1), False, "expired"),
    ],
)
def test_window_edges(
    client: FlaskClient,
    api_headers: dict[str, str],
    offset: timedelta,
    is_open: bool,
    reason: str | None,
) -> None:
    assert post(client, text_message(WA, "wamid.t1", T0)).status_code == 200
    clock.set_now(AT + offset)
    assert window(client, api_headers) == {
        "wa_id": WA,
        "window_open": is_open,
        "last_inbound_at": "2026-09-21T14:13:20Z",
        "expires_at": "2026-09-22T14:13:20Z",
        "closed_reason": reason,
    }


def test_out_of_order_notifications_never_move_the_window_back(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    newer, older = T0 + 3600, T0
    assert post(client, text_message(WA, "wamid.new", newer, name="Ana New")).status_code == 200
    assert post(client, text_message(WA, "wamid.old", older, name="Ana Old")).status_code == 200
    contact = one(db, Contact)
    assert contact.last_inbound_at == datetime.fromtimestamp(newer, UTC)
    assert contact.last_inbound_message_id == "wamid.new"
    assert contact.profile_name == "Ana New"  # the name follows the newest message
    clock.set_now(AT + timedelta(hours=24, seconds=30))  # past the older one's 24 h
    state = window(client, api_headers)
    assert state["window_open"] is True
    assert state["expires_at"] == "2026-09-22T15:13:20Z"


def test_an_nfm_reply_is_an_inbound_message(
    client: FlaskClient, api_headers: dict[str, str]
) -> None:
    assert post(client, nfm_reply(LEAD, token=token_for(WA), timestamp=T0)).status_code == 200
    clock.set_now(AT + timedelta(hours=1))
    assert window(client, api_headers)["window_open"] is True


def test_outbound_messages_and_their_statuses_never_extend_the_window(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    assert post(client, text_message(WA, "wamid.in", T0)).status_code == 200
    with db.transaction() as session:
        session.add(OutboundMessage(id="wamid.out", wa_id=WA, kind="text"))
    for state in ("sent", "delivered", "read"):
        assert post(client, status("wamid.out", WA, state, T0 + 7200)).status_code == 200
    assert one(db, Contact).last_inbound_at == AT
    clock.set_now(AT + timedelta(hours=24, seconds=1))
    assert window(client, api_headers)["closed_reason"] == "expired"


def test_re_engagement_error_closes_the_window_until_a_newer_inbound(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    assert post(client, text_message(WA, "wamid.in", T0)).status_code == 200
    clock.set_now(AT + timedelta(hours=2))
    assert window(client, api_headers)["window_open"] is True
    refused = status("wamid.out", WA, "failed", T0 + 3600, code=131047)
    assert post(client, refused).status_code == 200
    state = window(client, api_headers)
    assert (state["window_open"], state["closed_reason"]) == (False, "re_engagement_error")
    assert state["expires_at"] == "2026-09-22T14:13:20Z"
    recorded = one(db, MessageStatus)
    assert (recorded.status, recorded.error_code) == ("failed", 131047)
    # A redelivered status is stored once.
    assert post(client, refused).status_code == 200
    assert counts(db)["statuses"] == 1
    # The user writes again: the window reopens from that message.
    assert post(client, text_message(WA, "wamid.in2", T0 + 7200)).status_code == 200
    state = window(client, api_headers)
    assert (state["window_open"], state["closed_reason"]) == (True, None)


def test_other_failures_do_not_close_the_window(
    client: FlaskClient, api_headers: dict[str, str]
) -> None:
    assert post(client, text_message(WA, "wamid.in", T0)).status_code == 200
    assert post(client, status("wamid.out", WA, "failed", T0 + 60, code=131026)).status_code == 200
    clock.set_now(AT + timedelta(minutes=5))
    assert window(client, api_headers)["window_open"] is True


def test_flow_submitted_carries_the_window_at_submission_time(
    client: FlaskClient, db: Database
) -> None:
    """A reply processed late still reports the window as it was when the user submitted."""
    add_endpoint(db)
    clock.set_now(AT + timedelta(days=3))
    assert post(client, nfm_reply(LEAD, token=token_for(WA), timestamp=T0)).status_code == 200
    data = json.loads(one(db, Event).body)["data"]
    assert data["window"] == {"open": True, "expires_at": "2026-09-22T14:13:20Z"}


@pytest.mark.parametrize("wa_id", ["9" * 200, "4917000123"])
def test_window_of_an_impossible_wa_id_is_a_contact_never_seen(
    client: FlaskClient, api_headers: dict[str, str], wa_id: str
) -> None:
    response = client.get(f"/api/v1/contacts/{wa_id}/window", headers=api_headers)
    assert response.status_code == 200
    assert response.get_json()["closed_reason"] == "no_inbound_message"


@pytest.mark.parametrize("wa_id", ["+447700900123", "49170 00123", "x" * 200])
def test_window_of_a_wa_id_that_is_not_digits_explains_the_format(
    client: FlaskClient, api_headers: dict[str, str], wa_id: str
) -> None:
    response = client.get(f"/api/v1/contacts/{wa_id}/window", headers=api_headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert "digits only, country code first" in error["message"]
