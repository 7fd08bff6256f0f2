"""docs/contract.md "Two commands", "Configuration", "Command line" through the real binary:
a development `init` on an empty folder, a server started from `.env` alone, key commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import ROOT

FLOWGATE = str(Path(sys.executable).with_name("flowgate"))


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    return subprocess.run(
        [FLOWGATE, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_development_init_then_app_runs_from_dotenv_alone(tmp_path: Path) -> None:
    """`init` in development writes key, secrets and a migrated SQLite db into ./instance; a
    .env file is read; the default flows/schemas dirs are ./flows and ./schemas."""
    (tmp_path / "flows").symlink_to(ROOT / "flows")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    (tmp_path / ".env").write_text("FLOWGATE_ENV=development\nFLOWGATE_API_TOKENS=dotenv-token\n")
    init = _run(["init"], tmp_path)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "instance").is_dir()
    assert any((tmp_path / "instance").glob("*.pem"))
    script = (
        "from app import create_app\n"
        "c = create_app().test_client()\n"
        "h = c.get('/healthz')\n"
        "print(h.status_code, h.get_json()['database'] if h.is_json else '')\n"
        "r = c.get('/api/v1/flows', headers={'Authorization': 'Bearer dotenv-token'})\n"
        "print(r.status_code, sorted(f['name'] for f in r.get_json()['items']))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    base["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("200")
    assert lines[1] == "200 ['appointment', 'lead_capture']"
    again = _run(["init"], tmp_path)  # idempotent: keeps what exists
    assert again.returncode == 0, again.stderr


def test_production_default_refuses_without_secrets(tmp_path: Path) -> None:
    """FLOWGATE_ENV defaults to production: a command fails naming the setting it needs
    (`tokens issue` needs the token secret, not the app secret)."""
    (tmp_path / "flows").symlink_to(ROOT / "flows")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    result = _run(
        ["tokens", "issue", "--flow", "lead_capture", "--wa-id", "447700900001"], tmp_path
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "FLOWGATE_TOKEN_SECRET" in result.stderr
    assert "FLOWGATE_APP_SECRET" not in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_secret_is_a_clean_cli_error(tmp_path: Path) -> None:
    (tmp_path / "flows").symlink_to(ROOT / "flows")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    result = _run(["webhooks", "list"], tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_keys_public_prints_spki_of_current_key(  # type: ignore[no-untyped-def]
    settings, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    result = _run(["keys", "public"], tmp_path, env=settings)
    assert result.returncode == 0, result.stderr
    expected = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert result.stdout.strip() == expected.decode().strip()


def test_flows_validate_fails_on_a_broken_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "7.3", "screens": [')
    result = runner.invoke(["flows", "validate", str(broken)])
    assert result.exit_code != 0
    good = runner.invoke(["flows", "validate", str(ROOT / "flows" / "lead_capture.json")])
    assert good.exit_code == 0, good.output


def test_schemas_generate_prints_a_json_schema(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(["schemas", "generate", "lead_capture"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"name", "phone", "email", "service", "preferred_date"} <= set(schema["properties"])
