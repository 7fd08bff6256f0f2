"""`flowgate init`, `flowgate db upgrade` and `flowgate keys`: through the real CLI group."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, inspect

from app.cli import cli


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean environment for commands that read FLOWGATE_* themselves."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(__import__("os").environ):
        if name.startswith("FLOWGATE_"):
            monkeypatch.delenv(name)
    return {"FLOWGATE_INSTANCE_PATH": str(tmp_path / "instance")}


def invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_twice_keeps_the_same_keys(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, FLOWGATE_ENV="development")
    first = invoke(env, "init")
    instance = tmp_path / "instance"
    key = instance / "flow_private.pem"
    secrets_file = instance / "secrets.json"
    assert "created" in first
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    before = (
        key.read_bytes(),
        secrets_file.read_bytes(),
        (instance / "flow_public.pem").read_bytes(),
    )

    second = invoke(env, "init")
    assert "created" not in second
    after = (
        key.read_bytes(),
        secrets_file.read_bytes(),
        (instance / "flow_public.pem").read_bytes(),
    )
    assert after == before

    stored = json.loads(secrets_file.read_text())
    assert set(stored) == {"token_secret", "private_key_passphrase", "app_secret", "verify_token"}
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    with pytest.raises(TypeError):  # encrypted: unusable without the passphrase
        serialization.load_pem_private_key(key.read_bytes(), password=None)
    engine = create_engine(f"sqlite:///{instance / 'flowgate.sqlite3'}")
    assert "submissions" in inspect(engine).get_table_names()
    engine.dispose()


def test_init_in_production_writes_no_app_secret(cli_env: dict[str, str], tmp_path: Path) -> None:
    invoke(dict(cli_env, FLOWGATE_ENV="production"), "init")
    stored = json.loads((tmp_path / "instance" / "secrets.json").read_text())
    assert "app_secret" not in stored
    assert "verify_token" not in stored
    assert "token_secret" in stored


def test_keys_public_matches_generated_key(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    env = dict(
        cli_env, FLOWGATE_PRIVATE_KEY_PASSPHRASE="pass-1", FLOWGATE_PRIVATE_KEY_FILE=str(out)
    )
    invoke(env, "keys", "generate")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = serialization.load_pem_private_key(out.read_bytes(), password=b"pass-1")
    public_pem = invoke(env, "keys", "public")
    public = serialization.load_pem_public_key(public_pem.encode())
    assert public.public_numbers() == private.public_key().public_numbers()  # type: ignore[union-attr]
    # refuses to overwrite without --force
    result = CliRunner().invoke(cli, ["keys", "generate"], env=env)
    assert result.exit_code != 0
    assert "exists" in result.output


def test_db_upgrade_command(cli_env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert "head" in invoke(dict(cli_env, FLOWGATE_DATABASE_URL=url), "db", "upgrade")
    engine = create_engine(url)
    assert "deliveries" in inspect(engine).get_table_names()
    engine.dispose()
