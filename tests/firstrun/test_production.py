"""README.md's Production section, run as written: the one-time commands, then the Procfile's
two commands on loopback (a free port), answering /healthz and /readyz. On PostgreSQL when
FLOWGATE_TEST_POSTGRES_URL is set (the URL given in the README's `postgresql://` form), and on
SQLite. Plus: missing settings are reported at once, plainly, by gunicorn too."""

from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, POSTGRES_URL
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


@pytest.fixture(params=BACKENDS)
def readme_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, its URL written as the README writes it (`postgresql://`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'prod.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _procfile(repo: Path) -> dict[str, str]:
    lines = (repo / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_production_as_the_readme_writes_it(
    tmp_path: Path, processes: Processes, readme_database_url: str
) -> None:
    repo = fresh_copy(tmp_path / "repo")
    prod = section((repo / "README.md").read_text(), "## Production")
    serve_block, setup_block = code_blocks(prod, "sh")[:2]
    procfile = _procfile(repo)
    # The README's two commands are the Procfile's.
    assert [without_comment(c) for c in shell_commands(serve_block)] == [
        procfile["web"],
        procfile["worker"],
    ]

    values = {
        "FLOWGATE_DATABASE_URL": readme_database_url,
        "FLOWGATE_APP_SECRET": secrets.token_urlsafe(24),
        "FLOWGATE_TOKEN_SECRET": secrets.token_urlsafe(32),
        "FLOWGATE_API_TOKENS": secrets.token_urlsafe(32),
        "FLOWGATE_PRIVATE_KEY_FILE": str(tmp_path / "etc" / "flow_private.pem"),
    }
    env = clean_env(repo)
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    for command in shell_commands(setup_block):
        line = without_comment(command)
        exported = re.fullmatch(r"export (FLOWGATE_\w+)=(.*)", line)
        if exported:
            name = exported.group(1)
            if name == "FLOWGATE_PRIVATE_KEY_PASSPHRASE":
                printed = outputs["keys generate"].stderr
                env[name] = re.search(r"passphrase[^:]*: (\S+)", printed).group(1)  # type: ignore[union-attr]
            else:
                env[name] = values[name]
            continue
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", line],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs[" ".join(line.split()[1:3])] = done
    assert "BEGIN PUBLIC KEY" in outputs["keys public"].stdout

    run_env = dict(env, FLOWGATE_BIND="127.0.0.1:0", WEB_CONCURRENCY="2", FLOWGATE_THREADS="4")
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    processes.start(["bash", "-c", f"exec {procfile['web']}"], repo, run_env, web_log)
    processes.start(["bash", "-c", f"exec {procfile['worker']}"], repo, run_env, worker_log)
    found = wait_for(
        lambda: log_match(web_log, r"Listening at: (http://127\.0\.0\.1:\d+)"), 30, "gunicorn"
    )
    base = found.group(1)  # type: ignore[union-attr]

    def healthy() -> httpx.Response | None:
        try:
            return httpx.get(f"{base}/healthz", timeout=5)
        except httpx.TransportError:
            return None

    health = wait_for(healthy, 30, "/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"  # type: ignore[union-attr]
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json()["not_served"] == []
    wait_for(lambda: log_match(worker_log, r"delivering"), 30, "the worker")
    assert "gthread" in web_log.read_text()
    api = httpx.get(
        f"{base}/api/v1/webhook-endpoints",
        headers={"Authorization": f"Bearer {values['FLOWGATE_API_TOKENS']}"},
    )
    assert api.status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        ["gunicorn", "-c", "python:app.serving", "wsgi:app"],
        ["gunicorn", "wsgi:app"],
        ["flowgate", "run"],
    ],
)
def test_missing_production_settings_are_reported_at_once(
    tmp_path: Path, command: list[str]
) -> None:
    repo = fresh_copy(tmp_path / "repo")
    env = clean_env(repo, FLOWGATE_BIND="127.0.0.1:0")
    if command[0] == "gunicorn":
        command = [*command[:-1], "--bind", "127.0.0.1:0", command[-1]]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    for name in ("FLOWGATE_APP_SECRET", "FLOWGATE_TOKEN_SECRET", "FLOWGATE_PRIVATE_KEY_FILE"):
        assert name in done.stderr, done.stderr
    assert "flowgate keys generate" in done.stderr
    assert "secrets.token_urlsafe" in done.stderr
