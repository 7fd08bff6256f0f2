"""Shared fixtures in the flaskr style: `app`, `client`, `runner`, plus `db` and `settings`.

Every test that touches the database runs once on SQLite and, when
FLOWGATE_TEST_POSTGRES_URL is set, once more on PostgreSQL (look for `[sqlite]` and
`[postgresql]` in the test ids). Each PostgreSQL test gets its own schema, dropped afterwards,
so runs repeat and concurrent runs do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock, create_app
from app.config import Config
from app.crypto.keys import generate_private_key, private_pem
from app.db import Database
from app.models import Base

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("FLOWGATE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])

APP_SECRET = "test-app-secret"
API_TOKEN = "test-api-token"
KEY_PASSPHRASE = "test-key-passphrase"


def postgres_url(schema: str | None = None) -> str:
    """The test server's URL with the psycopg driver, optionally pinned to `schema`."""
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    if schema:
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    """One real RSA-2048 key for the whole run (generating one per test is slow)."""
    return generate_private_key()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the parametrised backend, removed after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'flowgate.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """FLOWGATE_* overrides for a test instance: real key file, known secrets, loopback only."""
    instance = tmp_path / "instance"
    instance.mkdir()
    key_file = instance / "flow_private.pem"
    key_file.write_bytes(private_pem(private_key, KEY_PASSPHRASE))
    return {
        "FLOWGATE_ENV": "production",
        "FLOWGATE_INSTANCE_PATH": str(instance),
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_FLOWS_DIR": str(ROOT / "flows"),
        "FLOWGATE_SCHEMAS_DIR": str(ROOT / "schemas"),
        "FLOWGATE_PRIVATE_KEY_FILE": str(key_file),
        "FLOWGATE_PRIVATE_KEY_PASSPHRASE": KEY_PASSPHRASE,
        "FLOWGATE_APP_SECRET": APP_SECRET,
        "FLOWGATE_VERIFY_TOKEN": "test-verify-token",
        "FLOWGATE_TOKEN_SECRET": "test-token-secret",
        "FLOWGATE_API_TOKENS": API_TOKEN,
        "FLOWGATE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
        "FLOWGATE_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.2",
        "TESTING": "1",
    }


def make_config(settings: dict[str, Any]) -> Config:
    """A Config from `settings` alone: the developer's environment and .env never leak in."""
    return Config.load(settings, environ={}, dotenv_path=None)


@pytest.fixture
def db(settings: dict[str, str]) -> Iterator[Database]:
    """The test database with every table created."""
    database = Database(settings["FLOWGATE_DATABASE_URL"])
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def build_app(config: Config) -> Flask:
    """`create_app`, tried twice when CPython 3.11's AST race strikes.

    CPython 3.11.7 (this machine's) can raise a spurious `SystemError: AST constructor recursion
    depth mismatch` while werkzeug compiles a URL rule, when garbage collection interrupts the
    construction (https://github.com/python/cpython/issues/106905, fixed in later releases).
    Only that exact error is retried; any other failure is the test's.
    """
    try:
        return create_app(config)
    except SystemError as exc:
        if "AST constructor recursion depth mismatch" not in str(exc):
            raise
        return create_app(config)


@pytest.fixture
def app(settings: dict[str, str], db: Database) -> Iterator[Flask]:
    application = build_app(make_config(settings))
    yield application
    observer = application.extensions.get("flowgate.observer")
    if observer is not None and observer.rollup is not None:
        observer.rollup.stop()  # its writer thread must not outlive the test's database
    application.extensions["flowgate"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}


class Runner(FlaskCliRunner):
    """Invokes the real `flowgate` group against the test app."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:  # type: ignore[override]
        from app.cli import cli as flowgate

        if isinstance(cli, list | tuple | str) and args is None:
            cli, args = None, cli
        kwargs.setdefault("obj", ScriptInfo(create_app=lambda: self.app))
        return super().invoke(cli or flowgate, args, **kwargs)


@pytest.fixture
def runner(app: Flask) -> Runner:
    return Runner(app)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Every test starts and ends with the real clock."""
    clock.set_now(None)
    yield
    clock.set_now(None)


def pytest_report_header(config: pytest.Config) -> str:
    """Say up front which databases this run covers."""
    where = f" ({make_url(POSTGRES_URL).render_as_string()})" if POSTGRES_URL else ""
    return f"flowgate databases: {', '.join(BACKENDS)}{where}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Count passed tests per database backend, so both are visibly exercised."""
    counts = dict.fromkeys(BACKENDS, 0)
    for report in terminalreporter.stats.get("passed", []):
        for backend in BACKENDS:
            if any(f"{a}{backend}{b}" in report.nodeid for a in "[-" for b in "]-"):
                counts[backend] += 1
    summary = ", ".join(f"{name}: {count} passed" for name, count in counts.items())
    terminalreporter.write_line(f"flowgate database tests: {summary}")
