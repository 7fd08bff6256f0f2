"""docs/leads.md's example notification, signed with `openssl` + `curl` and with Python, posted
to a development server prepared by `flowgate init` and served by `flowgate run`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from tests.conftest import ROOT
from tests.firstrun.repo import (
    Processes,
    clean_env,
    code_blocks,
    log_match,
    section,
    wait_for,
)


@pytest.mark.skipif(
    not (shutil.which("openssl") and shutil.which("curl")), reason="no openssl/curl"
)
def test_example_notification_snippets_store_one_lead(tmp_path: Path, processes: Processes) -> None:
    (tmp_path / "flows").symlink_to(ROOT / "flows")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    env = clean_env(ROOT)
    init = subprocess.run(
        ["flowgate", "init"],
        cwd=tmp_path,
        env=dict(env, FLOWGATE_ENV="development"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
    log = tmp_path / "run.log"
    processes.start(["flowgate", "run", "--port", "0"], tmp_path, env, log)
    found = wait_for(lambda: log_match(log, r"Running on (http://127\.0\.0\.1:\d+)"), 30, "run")
    server = found.group(1)  # type: ignore[union-attr]

    text = section(
        (ROOT / "docs" / "leads.md").read_text(), "### Try it: post a notification yourself"
    )
    shell = code_blocks(text, "sh")[0].replace("http://127.0.0.1:5000", server)
    python = code_blocks(text, "python")[0].replace("http://127.0.0.1:5000", server)
    curl = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert curl.returncode == 0, curl.stderr
    assert curl.stdout.strip().endswith("200"), curl.stdout
    py = subprocess.run(
        ["python", "-c", python], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert py.returncode == 0, py.stderr
    assert py.stdout.strip() == "200"

    token = dotenv_values(tmp_path / ".env")["FLOWGATE_API_TOKENS"]
    leads = httpx.get(
        f"{server}/api/v1/submissions",
        params={"flow": "lead_capture"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    assert len(leads) == 1
    assert leads[0]["status"] == "valid"
    assert leads[0]["fields"]["email"] == "grace@example.com"
    assert leads[0]["contact_name"] == "Grace Hopper"

    # A wrong signature is refused (403) and stores nothing.
    wrong = re.sub(r'"\$APP_SECRET"', "not-the-secret", shell)
    refused = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", wrong],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.stdout.strip().endswith("403"), refused.stdout
