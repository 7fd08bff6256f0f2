"""Every decision leaves one log line, never a secret or a token; JSON lines on request."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from flask.testing import FlaskClient

from app.db import Database
from app.delivery.attempt_log import log_attempt
from app.delivery.claims import Job
from app.delivery.transport import AttemptResult
from tests.conftest import APP_SECRET, ROOT
from tests.leads.meta import LEAD, nfm_reply, post, token_for

WA = "5511912345678"


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def test_each_stored_lead_is_one_line_with_flow_source_and_id(
    client: FlaskClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = token_for(WA)
    post(client, nfm_reply(LEAD, token=token, message_id="wamid.ok"))
    post(client, nfm_reply(LEAD, token=token, message_id="wamid.ok"))  # Meta's redelivery
    post(client, nfm_reply({**LEAD, "email": "x"}, message_id="wamid.bad", token=token_for(WA)))
    leads = [r.getMessage() for r in lines(caplog, "flowgate.leads")]
    assert len(leads) == 2  # the redelivered body is the same notification: no second decision
    assert leads[0].startswith("lead stored valid: flow lead_capture, source webhook, submission")
    assert leads[1].startswith("lead stored invalid: flow lead_capture, source webhook")
    assert "errors: format" in leads[1]
    assert [r.levelno for r in lines(caplog, "flowgate.leads")] == [logging.INFO, logging.WARNING]
    assert not any(token in r.getMessage() for r in caplog.records)
    # A new notification carrying the same message is a duplicate decision.
    caplog.clear()
    again = nfm_reply(LEAD, token=token, message_id="wamid.ok", name="Other name")
    post(client, again)
    assert [r.getMessage().split(":")[0] for r in lines(caplog, "flowgate.leads")] == [
        "lead duplicate"
    ]


def test_signature_and_verify_token_failures_name_the_setting(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert post(client, nfm_reply(LEAD), secret="wrong-secret").status_code == 403
    assert post(client, nfm_reply(LEAD), signature="").status_code == 401
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess-123", "hub.challenge": "1"}
    assert client.get("/webhooks/whatsapp", query_string=query).status_code == 403
    meta = [r.getMessage() for r in lines(caplog, "flowgate.meta")]
    assert any("FLOWGATE_APP_SECRET" in m for m in meta)
    assert any("X-Hub-Signature-256 header" in m for m in meta)
    assert any("FLOWGATE_VERIFY_TOKEN" in m for m in meta)
    text = caplog.text
    assert "guess-123" not in text and APP_SECRET not in text and "wrong-secret" not in text


def test_a_delivery_attempt_names_endpoint_and_host_not_path_or_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    job = Job(
        delivery_id="d1",
        fence=2,
        event_id="msg_1",
        body=b"{}",
        endpoint_id="ep-7",
        url="https://hooks.example.com/in/SECRET-PATH?key=abc",
        secrets=("whsec_c2VjcmV0",),
        endpoint_failing=False,
    )
    log_attempt(job, AttemptResult("retry", status_code=503, error="HTTP 503"))
    (record,) = lines(caplog, "flowgate.delivery")
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "endpoint ep-7" in message and "host hooks.example.com" in message
    assert "SECRET-PATH" not in message and "abc" not in message and "whsec" not in message


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_log_lines_for_log_shippers() -> None:
    code = (
        "from app.logs import configure_from_environment\n"
        "configure_from_environment()\n"
        "import logging\n"
        "log = logging.getLogger('flowgate.leads')\n"
        "log.warning('lead stored %s: é', 'invalid', extra={'submission_id': 's1'})\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('boom')\n"
    )
    done = run(code, FLOWGATE_LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stderr.strip().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "flowgate.leads"
    assert first["message"] == "lead stored invalid: é" and first["submission_id"] == "s1"
    assert first["time"].endswith("+00:00")
    assert "ZeroDivisionError" in second["exception"]
    text = run(code, FLOWGATE_LOG_FORMAT="text")
    assert "WARNING flowgate.leads: lead stored invalid" in text.stderr


def test_create_app_leaves_logging_to_the_entry_points(settings: dict[str, str], db) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import json, logging, sys\n"
        "from app import create_app\n"
        "from tests.conftest import make_config\n"
        "app = create_app(make_config(json.loads(sys.argv[1])))\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
        "import wsgi\n"
        "assert len(logging.getLogger().handlers) == 1\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(settings)],
        cwd=ROOT,
        env={**os.environ, **{k: v for k, v in settings.items() if k != "TESTING"}},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
