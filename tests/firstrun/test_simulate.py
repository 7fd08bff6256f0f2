"""`flowgate simulate` against a real server on loopback: a lead from each example flow with
answers that leave fields out, and refusals explained (432, 421, 427)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.crypto.keys import generate_private_key, public_pem
from app.db import Database
from app.models import Submission

FLOWGATE = str(Path(sys.executable).with_name("flowgate"))


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join()


def simulate(settings: dict[str, str], cwd: Path, *args: str, **overrides: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    env.update({k: v for k, v in settings.items() if k.startswith("FLOWGATE_")}, **overrides)
    return subprocess.run(
        [FLOWGATE, "simulate", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_both_example_flows_store_a_lead_with_fields_left_out(
    server: str, settings: dict[str, str], db: Database, tmp_path: Path
) -> None:
    answers = tmp_path / "appointment.json"
    # No date, no time, no more_details: chosen from today's offer / sent empty.
    answers.write_text(
        json.dumps(
            {
                "APPOINTMENT": {"department": "dermatology", "location": "riverside"},
                "DETAILS": {"name": "Ada", "email": "ada@example.com", "phone": "+44 20 7946 0000"},
            }
        )
    )
    done = simulate(settings, tmp_path, "appointment", "--url", server, "--answers", str(answers))
    assert done.returncode == 0, done.stderr
    assert "APPOINTMENT.date" in done.stdout and "DETAILS.more_details" in done.stdout
    assert "stored: valid" in done.stdout
    # Endpoint-less, no answers file at all: every required field is filled in, and the
    # completion reaches the server as a signed nfm_reply (the default with --url).
    done = simulate(settings, tmp_path, "lead_capture", "--url", server, "--wa-id", "447700900002")
    assert done.returncode == 0, done.stderr
    assert "nfm_reply posted" in done.stdout and "stored: valid" in done.stdout
    with db.session() as session:
        leads = {s.flow: s for s in session.query(Submission).all()}
    assert leads["appointment"].status == "valid" and leads["appointment"].source == "endpoint"
    assert leads["appointment"].fields["more_details"] == ""
    assert leads["lead_capture"].status == "valid" and leads["lead_capture"].source == "webhook"
    assert leads["lead_capture"].wa_id == "447700900002"


def test_without_url_an_endpoint_less_flow_is_only_walked(
    settings: dict[str, str], db: Database, tmp_path: Path
) -> None:
    done = simulate(settings, tmp_path, "lead_capture")
    assert done.returncode == 0, done.stderr
    assert "completed" in done.stdout and "nfm_reply" not in done.stdout
    with db.session() as session:
        assert session.query(Submission).count() == 0
    refused = simulate(settings, tmp_path, "appointment")
    assert refused.returncode == 1 and "pass --url" in refused.stderr


def test_refusals_are_explained(
    server: str, settings: dict[str, str], db: Database, tmp_path: Path
) -> None:
    args = ("appointment", "--url", server)
    wrong_secret = simulate(settings, tmp_path, *args, FLOWGATE_APP_SECRET="not-the-servers")
    assert wrong_secret.returncode == 1
    assert "app secret differs from the server's" in wrong_secret.stderr

    other_key = tmp_path / "other_public.pem"
    other_key.write_bytes(public_pem(generate_private_key()))
    wrong_key = simulate(settings, tmp_path, *args, "--public-key", str(other_key))
    assert wrong_key.returncode == 1
    assert "server has another private key" in wrong_key.stderr

    bad_token = simulate(settings, tmp_path, *args, "--flow-token", "garbage")
    assert bad_token.returncode == 1
    assert "427" in bad_token.stderr and "malformed" in bad_token.stderr

    other_secret = simulate(settings, tmp_path, *args, FLOWGATE_TOKEN_SECRET="another-secret")
    assert other_secret.returncode == 1
    assert "server's FLOWGATE_TOKEN_SECRET differs" in other_secret.stderr

    wrong_choice = tmp_path / "wrong.json"
    wrong_choice.write_text(json.dumps({"APPOINTMENT": {"department": "surgery"}}))
    refused = simulate(settings, tmp_path, *args, "--answers", str(wrong_choice))
    assert refused.returncode == 1
    assert "'surgery' is not an option of department" in refused.stderr
    assert "'cardiology'" in refused.stderr
