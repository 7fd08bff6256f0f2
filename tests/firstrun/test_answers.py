"""Every mistake gets an answer that says what to do: the closed admin API, readiness with a
broken flow, an unreachable Graph API, `postgresql://` URLs, missing production settings."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from app import create_app
from app.config import Config
from app.database_url import normalise_database_url
from app.db import Database
from app.errors import ConfigError
from app.messaging.graph import GraphClient, GraphUnreachable
from app.settings_check import require
from tests.conftest import ROOT, make_config


def test_api_without_tokens_says_it_is_closed_and_how_to_open_it(
    settings: dict[str, str], db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flowgate.api"):
        app = create_app(make_config(dict(settings, FLOWGATE_API_TOKENS="")))
    assert any("admin API closed" in r.getMessage() for r in caplog.records)
    response = app.test_client().get("/api/v1/flows", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert "closed" in error["message"] and "FLOWGATE_API_TOKENS" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_with_tokens_keeps_the_plain_401(client, settings) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/flows", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert "closed" not in response.get_json()["error"]["message"]


def test_readyz_lists_a_flow_that_is_not_served_while_healthz_stays_ok(
    settings: dict[str, str], db: Database, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    (flows / "broken.json").write_text('{"version": "7.3", "screens": []}')
    app = create_app(make_config(dict(settings, FLOWGATE_FLOWS_DIR=str(flows))))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "not_ready"
    assert [f["flow"] for f in body["not_served"]] == ["broken"]
    assert body["not_served"][0]["errors"]
    assert body["served"] == ["appointment", "lead_capture"]


def test_graph_api_unreachable_is_logged_with_its_url(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = GraphClient(f"http://127.0.0.1:{port}/v23.0", "1065", "secret-access-token")
    with caplog.at_level(logging.WARNING), pytest.raises(GraphUnreachable) as caught:
        client.send({"to": "15550000001"})
    url = f"http://127.0.0.1:{port}/v23.0/1065/messages"
    assert url in caught.value.message
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert url in logged and "secret-access-token" not in logged


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/x", "postgresql+psycopg://u:p@db:5432/x"),
        ("postgres://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_database_urls_as_people_write_them(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
    config = Config.load({"FLOWGATE_DATABASE_URL": given}, environ={}, dotenv_path=None)
    assert config.database_url == expected
    assert Database(given).url.drivername == expected.split(":", 1)[0]


def test_every_missing_setting_is_reported_at_once(tmp_path: Path) -> None:
    config = Config.load(
        {
            "FLOWGATE_INSTANCE_PATH": str(tmp_path),
            "FLOWGATE_DATABASE_URL": "mysql+nosuchdriver://x/y",
        },
        environ={},
        dotenv_path=None,
    )
    with pytest.raises(ConfigError) as caught:
        require(config)
    lines = str(caught.value).splitlines()
    assert "4 setting(s)" in lines[0]
    text = str(caught.value)
    for name in (
        "FLOWGATE_APP_SECRET",
        "FLOWGATE_TOKEN_SECRET",
        "FLOWGATE_PRIVATE_KEY_FILE",
        "FLOWGATE_DATABASE_URL",
    ):
        assert sum(name in line for line in lines[1:]) >= 1, name
    assert "flowgate keys generate" in text and "secrets.token_urlsafe(32)" in text


def test_an_unreadable_key_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    key = tmp_path / "flow_private.pem"
    key.write_text("not a key")
    config = Config.load(
        {"FLOWGATE_PRIVATE_KEY_FILE": str(key), "FLOWGATE_TOKEN_SECRET": "t"},
        environ={},
        dotenv_path=None,
    )
    with pytest.raises(ConfigError) as caught:
        require(config)
    text = str(caught.value)
    assert "FLOWGATE_APP_SECRET" in text and "cannot load private key" in text
    assert "FLOWGATE_TOKEN_SECRET" not in text
