"""Fixtures for sending: a loopback fake Graph API and an app configured to send through it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import clock, create_app
from app.db import Database
from tests.conftest import make_config
from tests.leads.meta import T0, post, text_message
from tests.messaging.fake_graph import FakeGraph

ACCESS_TOKEN = "EAAG-test-graph-access-token-never-logged"
PHONE_NUMBER_ID = "106540352242922"
WA = "5511912345678"
AT = datetime.fromtimestamp(T0, UTC)  # the inbound message that opens the window


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def sending_app(settings: dict[str, str], db: Database, graph: FakeGraph) -> Iterator[Flask]:
    application = create_app(
        make_config(
            {
                **settings,
                "FLOWGATE_GRAPH_API_URL": graph.url,
                "FLOWGATE_ACCESS_TOKEN": ACCESS_TOKEN,
                "FLOWGATE_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            }
        )
    )
    yield application
    application.extensions["flowgate"].db.dispose()


@pytest.fixture
def sender(sending_app: Flask) -> FlaskClient:
    return sending_app.test_client()


def open_window(client: FlaskClient, wa_id: str = WA, *, message_id: str = "wamid.in1") -> None:
    """The contact writes to us at AT (a signed webhook); the clock stands 1 h later."""
    clock.set_now(AT + timedelta(hours=1))
    response = post(client, text_message(wa_id, message_id, T0))
    assert response.status_code == 200
