"""The CLI a first user meets: `webhooks` management, `export` errors and raw mode, `init`'s
.env and admin token, each command asking only for what it uses."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from app.db import Database
from app.leads.intake import Intake, record_submission
from app.models import WebhookEndpoint
from tests.conftest import ROOT
from tests.delivery.receiver import Receiver, Reply

FLOWGATE = str(Path(sys.executable).with_name("flowgate"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(lambda _n, _r: Reply(202, body=b"thanks"))
    yield started
    started.close()


def _add(runner, url: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    result = runner.invoke(["webhooks", "add", url])
    assert result.exit_code == 0, result.output
    fields = dict(
        line.split(":", 1) for line in result.stdout.splitlines() if line.startswith(("id", "sec"))
    )
    return fields["id"].strip(), fields["secret"].strip()


def test_webhooks_test_sends_a_verifiable_signed_event(runner, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    endpoint_id, secret = _add(runner, receiver.url)
    result = runner.invoke(["webhooks", "test", endpoint_id])
    assert result.exit_code == 0, result.output
    assert "HTTP 202" in result.stdout and "body: thanks" in result.stdout
    [request] = receiver.requests
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert event["data"]["endpoint_id"] == endpoint_id


def test_webhooks_test_reports_a_failing_receiver(runner) -> None:  # type: ignore[no-untyped-def]
    failing = Receiver(lambda _n, _r: Reply(500, body=b"boom"))
    try:
        endpoint_id, _ = _add(runner, failing.url)
        result = runner.invoke(["webhooks", "test", endpoint_id])
    finally:
        failing.close()
    assert result.exit_code == 1
    assert "HTTP 500" in result.output and "boom" in result.output


def test_webhooks_disable_enable_rotate_remove(runner, db: Database, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    endpoint_id, secret = _add(runner, receiver.url)
    assert runner.invoke(["webhooks", "disable", endpoint_id]).exit_code == 0
    with db.session() as session:
        assert session.get(WebhookEndpoint, endpoint_id).enabled is False
    listed = runner.invoke(["webhooks", "list"]).stdout
    assert "disabled" in listed
    assert runner.invoke(["webhooks", "enable", endpoint_id]).exit_code == 0
    rotated = runner.invoke(["webhooks", "rotate-secret", endpoint_id])
    assert rotated.exit_code == 0
    new_secret = rotated.stdout.split("secret:")[1].split()[0]
    assert new_secret.startswith("whsec_") and new_secret != secret
    with db.session() as session:
        stored = session.get(WebhookEndpoint, endpoint_id)
        assert stored.enabled is True and stored.secret == new_secret
        assert stored.previous_secret == secret
    assert runner.invoke(["webhooks", "remove", endpoint_id, "--yes"]).exit_code == 0
    with db.session() as session:
        assert session.get(WebhookEndpoint, endpoint_id) is None
    again = runner.invoke(["webhooks", "remove", endpoint_id, "--yes"])
    assert again.exit_code == 1 and "no webhook endpoint" in again.output


def _lead(db: Database, app, phone: str = "+44 20 7946 0000") -> None:  # type: ignore[no-untyped-def]
    registry = app.extensions["flowgate"].registry
    fields = {
        "name": "Grace Hopper",
        "phone": phone,
        "email": "grace@example.com",
        "service": "consultation",
        "preferred_date": "2026-12-24",
    }
    with db.transaction() as session:
        record_submission(
            session,
            registry,
            Intake(
                flow="lead_capture",
                fields=fields,
                source="webhook",
                wa_id="447700900001",
                message_id="wamid.cli-test",
            ),
        )


def test_export_errors_name_the_format_and_the_known_flows(runner) -> None:  # type: ignore[no-untyped-def]
    since = runner.invoke(["export", "--since", "last tuesday"])
    assert since.exit_code == 2
    assert "ISO 8601" in since.output and "2026-01-31T09:00:00Z" in since.output
    unknown = runner.invoke(["export", "--flow", "lead_captrue"])
    assert unknown.exit_code == 2
    assert "known flows: appointment, lead_capture" in unknown.output


def test_export_raw_keeps_phone_numbers_and_the_default_guards_them(runner, db, app) -> None:  # type: ignore[no-untyped-def]
    _lead(db, app)
    guarded = runner.invoke(["export", "--flow", "lead_capture"])
    raw = runner.invoke(["export", "--flow", "lead_capture", "--raw"])
    assert guarded.exit_code == 0 and raw.exit_code == 0, raw.output
    [row] = list(csv.DictReader(io.StringIO(guarded.stdout)))
    [raw_row] = list(csv.DictReader(io.StringIO(raw.stdout)))
    assert row["phone"] == "'+44 20 7946 0000"
    assert raw_row["phone"] == "+44 20 7946 0000"
    assert {k: v for k, v in raw_row.items() if k != "phone"} == {
        k: v for k, v in row.items() if k != "phone"
    }


def test_api_csv_raw_mode(client, api_headers, db, app) -> None:  # type: ignore[no-untyped-def]
    _lead(db, app, phone="+1 555 0100")
    guarded = client.get("/api/v1/submissions.csv", headers=api_headers).get_data(as_text=True)
    raw = client.get("/api/v1/submissions.csv?raw=1", headers=api_headers).get_data(as_text=True)
    assert '"\'+1 555 0100"' in guarded
    assert '"+1 555 0100"' in raw and "'+1" not in raw


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    return subprocess.run(
        [FLOWGATE, *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "flows").symlink_to(ROOT / "flows")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    return tmp_path


def test_init_writes_its_env_and_prints_the_admin_token_once(folder: Path) -> None:
    first = _run(["init"], folder, FLOWGATE_ENV="development")
    assert first.returncode == 0, first.stderr
    token = first.stdout.split("admin API token (shown once; also in .env): ")[1].split()[0]
    env_text = (folder / ".env").read_text()
    assert "FLOWGATE_ENV=development" in env_text
    assert f"FLOWGATE_API_TOKENS={token}" in env_text
    assert oct((folder / ".env").stat().st_mode & 0o777) == "0o600"
    # Without exporting anything, the instance is usable: .env says development.
    again = _run(["init"], folder)
    assert again.returncode == 0 and token not in again.stdout
    assert (folder / ".env").read_text() == env_text
    issued = _run(["tokens", "issue", "--flow", "lead_capture", "--wa-id", "447700900001"], folder)
    assert issued.returncode == 0, issued.stderr
    for command in (["export"], ["webhooks", "list"], ["inbox", "reprocess"]):
        done = _run(command, folder)
        assert done.returncode == 0, (command, done.stderr)


def test_init_leaves_a_users_env_alone(folder: Path) -> None:
    (folder / ".env").write_text("FLOWGATE_ENV=development\n")
    done = _run(["init"], folder)
    assert done.returncode == 0, done.stderr
    assert (folder / ".env").read_text() == "FLOWGATE_ENV=development\n"
    assert "admin API closed" in done.stderr


def test_commands_demand_only_what_they_use(folder: Path, settings: dict[str, str]) -> None:
    """Production settings without the app secret or the key: database commands still work."""
    from app.db_migrations import upgrade

    upgrade(settings["FLOWGATE_DATABASE_URL"])
    env = {
        k: v
        for k, v in settings.items()
        if k.startswith("FLOWGATE_")
        and k not in ("FLOWGATE_APP_SECRET", "FLOWGATE_PRIVATE_KEY_FILE")
    }
    env["FLOWGATE_PRIVATE_KEY_FILE"] = str(folder / "absent.pem")
    for command in (
        ["export"],
        ["webhooks", "list"],
        ["tokens", "issue", "--flow", "lead_capture", "--wa-id", "447700900001"],
    ):
        done = _run(command, folder, **env)
        assert done.returncode == 0, (command, done.stderr)
    simulate = _run(["simulate", "lead_capture"], folder, **env)
    assert simulate.returncode == 1
    assert "FLOWGATE_APP_SECRET" in simulate.stderr and "absent.pem" in simulate.stderr
    assert "Traceback" not in simulate.stderr
