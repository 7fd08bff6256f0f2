"""The HTTP shell: JSON errors everywhere, bearer auth on /api/v1, health."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import Config
from app.errors import ConfigError
from tests.conftest import API_TOKEN, make_config


def test_healthz_reports_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["flows"]["loaded"] >= 2


def test_healthz_reports_unreachable_database(settings: dict[str, str], tmp_path) -> None:
    from app import create_app

    broken = dict(settings, FLOWGATE_DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/x.db")
    app = create_app(make_config(broken))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {API_TOKEN}x"},
    ],
)
def test_api_refuses_missing_or_wrong_token(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/submissions", headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_with_no_tokens_configured_is_closed(settings: dict[str, str]) -> None:
    from app import create_app

    app = create_app(make_config(dict(settings, FLOWGATE_API_TOKENS="")))
    response = app.test_client().get("/api/v1/openapi.json", headers={"Authorization": "Bearer "})
    assert response.status_code == 200  # the document is public
    response = app.test_client().get("/api/v1/flows", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401


def test_unknown_routes_are_json_404(client: FlaskClient, api_headers: dict[str, str]) -> None:
    for response in (
        client.get("/no/such/page"),
        client.get("/api/v1/no-such-thing", headers=api_headers),
    ):
        assert response.status_code == 404
        assert response.is_json
        assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_internal_error_is_json_500_without_traceback(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body == {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": None}
    }
    assert b"Traceback" not in response.data
    assert b"secret internal detail" not in response.data


def test_openapi_paths_are_absolute(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["paths"]
    assert all(path.startswith("/api/v1/") for path in document["paths"])


@pytest.mark.parametrize("missing", ["FLOWGATE_APP_SECRET", "FLOWGATE_TOKEN_SECRET"])
def test_production_refuses_to_start_without_secrets(
    settings: dict[str, str], missing: str
) -> None:
    from app import create_app

    with pytest.raises(ConfigError, match=missing):
        create_app(make_config({k: v for k, v in settings.items() if k != missing}))


def test_unloadable_private_key_is_a_startup_error(settings: dict[str, str], tmp_path) -> None:
    from app import create_app

    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(ConfigError, match="cannot load private key"):
        create_app(make_config(dict(settings, FLOWGATE_PRIVATE_KEY_FILE=str(bad))))
    with pytest.raises(ConfigError, match="PASSPHRASE"):
        create_app(make_config(dict(settings, FLOWGATE_PRIVATE_KEY_PASSPHRASE="")))


def test_config_lists_and_defaults() -> None:
    config = Config.load(
        {"FLOWGATE_APP_SECRET": "a, b ,,c", "FLOWGATE_API_TOKENS": "t1,t2"},
        environ={},
        dotenv_path=None,
    )
    assert config.app_secrets == ("a", "b", "c")
    assert config.api_tokens == ("t1", "t2")
    assert config.env == "production"
    assert config.max_endpoint_body == 1_048_576
    assert config.webhook_retry_schedule[:3] == (0, 5, 300)
    assert config.database_url.endswith("instance/flowgate.sqlite3")
    with pytest.raises(ConfigError):
        Config.load({"FLOWGATE_ENV": "staging"}, environ={}, dotenv_path=None)


def test_config_reads_dotenv(tmp_path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("FLOWGATE_VERIFY_TOKEN=from-dotenv\nFLOWGATE_ENV=development\n")
    config = Config.load(environ={"FLOWGATE_ENV": "production"}, dotenv_path=dotenv)
    assert config.verify_token == "from-dotenv"
    assert config.env == "production"  # the environment beats .env
    config = Config.load({"FLOWGATE_VERIFY_TOKEN": "override"}, environ={}, dotenv_path=dotenv)
    assert config.verify_token == "override"  # explicit overrides beat both
    assert config.env == "development"
