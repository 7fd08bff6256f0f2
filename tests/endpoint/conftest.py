"""Endpoint test helpers: an emulated WhatsApp client wired to the test app, tokens, keys."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from app import create_app
from app.crypto.keys import generate_private_key
from app.crypto.tokens import issue_token
from app.endpoint.emulator import FlaskTransport, WhatsAppClient
from tests.conftest import APP_SECRET, ROOT, make_config

TOKEN_SECRET = "test-token-secret"
WA_ID = "447700900123"


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """A second real RSA-2048 key (rotation, 'encrypted for another key')."""
    return generate_private_key()


def token_for(flow: str, wa_id: str = WA_ID, ttl: int = 3600) -> str:
    return issue_token(TOKEN_SECRET, flow=flow, wa_id=wa_id, ttl_seconds=ttl).flow_token


ClientFactory = Callable[..., WhatsAppClient]


def make_client(
    app: Flask,
    private_key: rsa.RSAPrivateKey,
    flow: str = "appointment",
    *,
    token: str | bool | None = True,
    key: rsa.RSAPrivateKey | None = None,
    secret: str = APP_SECRET,
    **kwargs: Any,
) -> WhatsAppClient:
    """A WhatsAppClient posting to `app` through its test client (token=True issues one)."""
    definition = app.extensions["flowgate"].registry.get(flow)
    return WhatsAppClient(
        flow=flow,
        document=definition.document if definition else {},
        public_key=(key or private_key).public_key(),
        app_secret=secret,
        transport=FlaskTransport(app.test_client()),
        flow_token=token_for(flow) if token is True else (token or None),
        **kwargs,
    )


@pytest.fixture
def wa(app: Flask, private_key: rsa.RSAPrivateKey) -> Iterator[ClientFactory]:
    """`wa(flow, token=..., key=..., secret=...)`: a WhatsAppClient posting to the test app."""

    def make(flow: str = "appointment", **kwargs: Any) -> WhatsAppClient:
        return make_client(app, private_key, flow, **kwargs)

    yield make


@pytest.fixture
def variant(settings: dict[str, str], db: Any) -> Iterator[Callable[..., Flask]]:
    """Build another app over the same database with some FLOWGATE_* settings changed."""
    apps: list[Flask] = []

    def make(**overrides: str) -> Flask:
        application = create_app(make_config({**settings, **overrides}))
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["flowgate"].db.dispose()


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A private flows/ + schemas/ copy of `appointment` to add handler modules to."""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    flows.mkdir()
    schemas.mkdir()
    shutil.copy(ROOT / "flows" / "appointment.json", flows / "appointment.json")
    shutil.copy(ROOT / "schemas" / "appointment.json", schemas / "appointment.json")
    return flows
