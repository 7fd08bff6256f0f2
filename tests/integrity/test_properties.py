"""Property tests over every input surface: never a 500, never a plaintext endpoint answer,
nothing valid lost. Text strategies include non-ASCII, lone surrogates, NUL and deep nesting.

No test here touches a network: host names are never resolved (a stub resolver refuses
them), and the Cloud API is not configured, so sending stops before any connection.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from datetime import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.crypto.envelope import DecryptionError
from app.db import Database
from app.models import Submission
from tests.conftest import API_TOKEN
from tests.endpoint.conftest import make_client, token_for
from tests.leads.meta import LEAD, T0, nfm_reply, post
from tests.leads.meta import token_for as webhook_token

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
SPECIAL = ["\x00", "\ud800", "\udfff", "\udc80x", "é", "\u200b", "\uff1d", "\ufeff", "'", '"']

# Text that is hostile to every layer: any code point (lone surrogates included), NUL, and
# the special characters above spliced in.
any_character = st.characters(codec=None, exclude_categories=()) | st.integers(0xD800, 0xDFFF).map(
    chr
)  # st.characters leaves surrogates out whatever it is told
hostile_text = st.one_of(
    st.text(any_character, max_size=40),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=4), max_size=8).map("".join),
)
deep = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
# Flow tokens shaped like ours (`fg1.<payload>.<mac>`) so the hostile parts reach the MAC
# comparison, plus a real token with hostile characters appended, plus anything at all.
tokens = st.one_of(
    st.builds(lambda a, b: f"fg1.{a}.{b}", hostile_text, hostile_text),
    st.builds(lambda t: token_for("appointment") + t, hostile_text),
    st.builds(lambda t: webhook_token("5511987654321") + t, hostile_text),
    hostile_text,
    deep,
)
# Times a cursor may hold: any date, any offset (0001-01-01T00:00:00+14:00 is out of range).
cursor_times = st.builds(
    lambda at, offset: at.isoformat() + offset,
    st.sampled_from([datetime.min, datetime.max]) | st.datetimes(),  # the edges overflow
    st.sampled_from(["", "Z", "+00:00", "+14:00", "-14:00", "+23:59"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=10,
)


def dumps(value: Any) -> str:
    """JSON text; lone surrogates become `\\udXXX` escapes (valid JSON, invalid Unicode)."""
    return json.dumps(value)


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("127.0.0.1", "::1", "localhost"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "resolution disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def assert_not_500(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "details"}


# -- the data endpoint --------------------------------------------------------------------


@SETTINGS
@given(
    token=st.one_of(tokens, st.none(), st.just(token_for("appointment"))),
    action=st.sampled_from(["INIT", "BACK", "data_exchange", "ping", "navigate", ""]),
    screen=st.one_of(hostile_text, st.sampled_from(["APPOINTMENT", "DETAILS", "SUMMARY"])),
    data=st.dictionaries(hostile_text, json_values, max_size=5),
    error_notification=st.booleans(),
)
def test_endpoint_payloads_never_500_or_plaintext(
    app: Flask,
    private_key: rsa.RSAPrivateKey,
    token: Any,
    action: str,
    screen: str,
    data: dict[str, Any],
    error_notification: bool,
) -> None:
    client = make_client(app, private_key, token=None)
    payload: dict[str, Any] = {"version": "3.0", "action": action, "screen": screen, "data": data}
    if error_notification:
        payload["data"] = {**data, "error": "payload-schema-error", "error_message": screen}
    if token is not None:
        payload["flow_token"] = token
    try:
        reply = client.send(payload)
    except DecryptionError:  # pragma: no cover - would mean a plaintext answer
        pytest.fail("the endpoint answered something that does not decrypt")
    assert reply.status in (200, 400, 421, 427), reply.status
    if reply.status in (200, 427):
        assert isinstance(reply.payload, dict)  # decrypted: never plaintext
    if token is not None and token != token_for("appointment") and reply.status == 200:
        # A hostile token is never served, only acknowledged or pinged.
        assert error_notification or action == "ping" or reply.payload.get("data") is not None


# -- Meta's webhook -----------------------------------------------------------------------


@SETTINGS
@given(token=tokens, fields=st.dictionaries(hostile_text, json_values))
def test_a_hostile_reply_never_loses_the_valid_one_beside_it(
    app: Flask, db: Database, token: str, fields: dict[str, Any]
) -> None:
    wa1, wa2 = "5511912345678", "5511987654321"
    one, two = f"wamid.{uuid.uuid4().hex}", f"wamid.{uuid.uuid4().hex}"
    first = nfm_reply(LEAD, wa_id=wa1, message_id=one, token=webhook_token(wa1), timestamp=T0)
    second = nfm_reply({}, wa_id=wa2, message_id=two, timestamp=T0)
    reply = second["entry"][0]["changes"][0]["value"]["messages"][0]
    reply["interactive"]["nfm_reply"]["response_json"] = dumps({**fields, "flow_token": token})
    value = first["entry"][0]["changes"][0]["value"]
    value["contacts"] += second["entry"][0]["changes"][0]["value"]["contacts"]
    value["messages"] += [reply]
    response = post(app.test_client(), dumps(first).encode())
    assert_not_500(response)
    with db.session() as session:
        stored = {
            s.message_id: s
            for s in session.scalars(
                select(Submission).where(Submission.message_id.in_([one, two]))
            )
        }
    assert stored[one].status == "valid"  # nothing valid lost
    assert two in stored  # the hostile one is a visible lead too


@SETTINGS
@given(body=st.one_of(json_values.map(dumps), hostile_text, deep, st.binary(max_size=200)))
def test_any_signed_notification_body_is_200_or_400(app: Flask, body: Any) -> None:
    raw = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    response = post(app.test_client(), raw)
    assert response.status_code in (200, 400), response.get_data()[:300]
    assert response.is_json


@SETTINGS
@given(
    value=st.dictionaries(
        st.sampled_from(["messages", "statuses", "contacts", "metadata"]),
        st.lists(json_values, max_size=3),
        max_size=4,
    )
)
def test_any_messages_change_is_processed_without_a_500(app: Flask, value: Any) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    assert_not_500(post(app.test_client(), dumps(body).encode()))


# -- the admin API ------------------------------------------------------------------------

LISTS = ["/api/v1/submissions", "/api/v1/webhook-endpoints", "/api/v1/submissions.csv"]


@SETTINGS
@given(
    raw=st.one_of(
        st.builds(
            lambda t, i: dumps({"t": t, "id": i}),
            cursor_times | hostile_text,
            hostile_text | json_values | deep,
        ),
        hostile_text,
        deep,
        json_values.map(dumps),
    ),
    path=st.sampled_from(LISTS),
)
def test_any_cursor_is_a_page_or_a_400(app: Flask, raw: str, path: str) -> None:
    cursor = base64.urlsafe_b64encode(raw.encode("utf-8", "surrogatepass")).decode()
    for value in (cursor, cursor.rstrip("="), raw.encode("utf-8", "replace").decode()):
        response = app.test_client().get(path, query_string={"cursor": value}, headers=HEADERS)
        if path.endswith(".csv"):  # the CSV takes no cursor: an unknown parameter is a 400
            assert response.status_code == 400
        else:
            assert_not_500(response)


@SETTINGS
@given(at=cursor_times, row_id=hostile_text, path=st.sampled_from(LISTS[:2]))
def test_any_time_cursor_is_a_page_or_a_400(app: Flask, at: str, row_id: str, path: str) -> None:
    raw = dumps({"t": at, "id": row_id}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()
    assert_not_500(app.test_client().get(path, query_string={"cursor": cursor}, headers=HEADERS))


QUERIES = ["flow", "wa_id", "status", "since", "until", "limit", "excel", "nope"]


@SETTINGS
@given(
    path=st.sampled_from(
        [*LISTS, "/api/v1/flows", "/api/v1/contacts/5511912345678/window", "/api/v1/flows/x"]
    ),
    query=st.dictionaries(st.sampled_from(QUERIES), hostile_text, max_size=4),
)
def test_any_query_is_an_answer_or_a_400(app: Flask, path: str, query: dict[str, str]) -> None:
    safe = {k: v.encode("utf-8", "replace").decode() for k, v in query.items()}
    assert_not_500(app.test_client().get(path, query_string=safe, headers=HEADERS))


BODY_ROUTES = ["/api/v1/webhook-endpoints", "/api/v1/flow-tokens", "/api/v1/messages"]
BODY_KEYS = ["url", "description", "events", "flow", "wa_id", "ttl_seconds", "to", "type", "text"]


@SETTINGS
@given(
    path=st.sampled_from(BODY_ROUTES),
    body=st.one_of(
        st.dictionaries(st.sampled_from(BODY_KEYS) | hostile_text, json_values, max_size=5),
        json_values,
        deep,
    ),
)
def test_any_admin_body_is_an_answer_or_a_400(app: Flask, path: str, body: Any) -> None:
    raw = body if isinstance(body, str) and body.startswith("[") else dumps(body)
    response = app.test_client().post(
        path, data=raw, headers={**HEADERS, "Content-Type": "application/json"}
    )
    if path.endswith("/messages") and response.status_code == 503:
        return  # sending is not configured in tests: refused before any connection
    assert_not_500(response)
