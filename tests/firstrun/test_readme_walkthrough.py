"""README.md's quick start and "A first lead, on one machine", run as written on a fresh copy.

`make run` (its `flowgate init` and `flowgate run`, on a free loopback port), then every
command of the README's walkthrough block in order, through bash, in a clean environment
that only has `.venv/bin` on PATH: validate, generate a schema, issue a token, register a
webhook endpoint, start the README's own receiver (which verifies with the `standardwebhooks`
package) and a worker, simulate both example flows, export. The only substitutions are the
two loopback addresses (the README's fixed ports 5000 and 8000 become free ports) and the
`whsec_...` placeholder (the secret `webhooks add` printed).
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import httpx

from tests.firstrun.repo import (
    Processes,
    clean_env,
    code_blocks,
    fresh_copy,
    log_match,
    section,
    shell_commands,
    wait_for,
    without_comment,
)

RECEIVER_WRAPPER = """\
import runpy, sys
from werkzeug.serving import make_server
# receiver.py as the README writes it; its `app.run(port=8000)` is replaced by the socket
# the test bound (port 0), passed as a file descriptor.
app = runpy.run_path("receiver.py", run_name="receiver")["app"]
make_server("127.0.0.1", 0, app, fd=int(sys.argv[1])).serve_forever()
"""


def test_readme_first_run_walkthrough(tmp_path: Path, processes: Processes) -> None:
    repo = fresh_copy(tmp_path / "repo")
    readme = (repo / "README.md").read_text()
    env = clean_env(repo)

    # Quick start: `make run` (installing is skipped: the copy's .venv is the running one).
    assert "make run" in code_blocks(section(readme, "## Quick start"), "sh")[0]
    server_log = tmp_path / "make-run.log"
    processes.start(["make", "run", "PORT=0", "STAMP="], repo, env, server_log)
    found = wait_for(
        lambda: log_match(server_log, r"Running on (http://127\.0\.0\.1:\d+)"), 30, "make run"
    )
    server = found.group(1)  # type: ignore[union-attr]
    init_out = server_log.read_text()
    token = re.search(r"admin API token \(shown once[^)]*\): (\S+)", init_out)
    assert token, init_out
    assert (repo / ".env").read_text().count(token.group(1)) == 1
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"

    receiver_sock = socket.socket()
    receiver_sock.bind(("127.0.0.1", 0))
    receiver_sock.listen(16)
    receiver = f"http://127.0.0.1:{receiver_sock.getsockname()[1]}"
    receiver_code = code_blocks(section(readme, "## Verifying Flowgate's webhooks"), "python")[0]
    (repo / "receiver.py").write_text(receiver_code)
    (repo / "receiver_wrapper.py").write_text(RECEIVER_WRAPPER)

    block = code_blocks(section(readme, "### A first lead, on one machine"), "sh")[0]
    outputs: dict[str, str] = {}
    # A new shell: `flowgate` is not on PATH until the README's activation line.
    shell_env = dict(env, PATH=env["PATH"].split(os.pathsep, 1)[1])
    activate = ""
    receiver_log = tmp_path / "receiver.log"
    for command in shell_commands(block):
        line = without_comment(command) if "\n" not in command else command
        line = line.replace("http://127.0.0.1:5000", server)
        line = line.replace("http://127.0.0.1:8000", receiver)
        if line.startswith(". .venv/bin/activate"):
            activate = line + "\n"  # every later command runs in the activated shell
            continue
        if line.startswith("export FLOWGATE_WEBHOOK_SECRET="):
            secret = re.search(r"^secret: +(whsec_\S+)$", outputs["webhooks add"], re.M)
            assert secret, outputs["webhooks add"]
            env["FLOWGATE_WEBHOOK_SECRET"] = secret.group(1)
            continue
        if line == "python receiver.py &":
            fd = receiver_sock.fileno()
            processes.start(
                ["python", "receiver_wrapper.py", str(fd)], repo, env, receiver_log, pass_fds=(fd,)
            )
            continue
        if line == "flowgate worker &":
            processes.start(["flowgate", "worker"], repo, env, tmp_path / "worker.log")
            continue
        assert not line.endswith("&"), f"unexpected background command: {line}"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", activate + line],
            cwd=repo,
            env=dict(shell_env, FLOWGATE_WEBHOOK_SECRET=env.get("FLOWGATE_WEBHOOK_SECRET", "")),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        words = line.split()
        if words[0] == "flowgate":
            outputs[" ".join(words[1:3])] = done.stdout + done.stderr

    assert activate, "the README activates .venv before using flowgate"
    assert "0 error(s)" in outputs["flows validate"]
    schema = json.loads(outputs["schemas generate"])
    assert schema["required"] == ["name", "phone", "email", "service", "preferred_date"]
    assert re.fullmatch(r"fg1\.\S+\s*", outputs["tokens issue"].splitlines()[0] + "\n")
    for flow in ("lead_capture", "appointment"):
        assert re.search(r"lead \S+ stored: valid", outputs[f"simulate {flow}"]), outputs[
            f"simulate {flow}"
        ]
    # The appointment's date and time were chosen from what the server offered today.
    assert "APPOINTMENT.date" in outputs["simulate appointment"]

    # The README's receiver printed both leads: it verified them with `standardwebhooks`.
    def received() -> bool:
        text = receiver_log.read_text() if receiver_log.exists() else ""
        return "lead_capture {" in text and "appointment {" in text

    wait_for(received, 30, "the receiver to print both leads")
    deliveries = httpx.get(
        f"{server}/api/v1/webhook-endpoints",
        headers={"Authorization": f"Bearer {token.group(1)}"},
    )
    assert deliveries.status_code == 200

    with open(repo / "leads.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["flow"] for r in rows) == ["appointment", "lead_capture"]
    assert {r["status"] for r in rows} == {"valid"}
