"""Fixtures of the browser tests: a live server on loopback, Debian's chromium, axe-core.

The server is the real app in a threaded werkzeug server on 127.0.0.1, port 0. Chromium is
`/usr/bin/chromium` (or FLOWGATE_CHROMIUM) driven by Playwright, never a downloaded browser.
axe-core comes from the npm registry into a git-ignored folder (.ci/browser-deps; or
FLOWGATE_AXE_JS). Without them the browser tests skip locally, saying why; in CI (CI=true)
they fail instead. Screenshots of every page go to FLOWGATE_SCREENSHOT_DIR (default
.cache/screenshots), printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.db import Database
from tests.conftest import ROOT, make_config

CHROMIUM = Path(os.environ.get("FLOWGATE_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(
    os.environ.get("FLOWGATE_AXE_JS", ROOT / ".cache/axe/node_modules/axe-core/axe.min.js")
)
SCREENSHOTS = Path(os.environ.get("FLOWGATE_SCREENSHOT_DIR", ROOT / ".cache/screenshots"))
IN_CI = os.environ.get("CI", "").lower() == "true"

BROKEN_FLOW = """{
  "version": "7.3",
  "screens": [
    {
      "id": "ONLY",
      "title": "Broken on purpose",
      "terminal": true,
      "layout": {
        "type": "SingleColumnLayout",
        "children": [
          {"type": "TextInput", "name": "name", "label": "Name"},
          {"type": "Footer", "label": "Send", "on-click-action": {
            "name": "complete", "payload": {"name": "${form.nmae}"}}}
        ]
      }
    }
  ]
}
"""


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    if not AXE_JS.exists():
        return f"{AXE_JS} is missing (run .ci/browser-deps to fetch axe-core with npm)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the whole run (contexts isolate the tests)."""
    problem = _missing()
    if problem:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def dashboard_app(settings: dict[str, str], db: Database, tmp_path: Path) -> Iterator[Flask]:
    """The app with the shipped flows plus one broken flow (the flows page shows its finding)."""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    shutil.copytree(ROOT / "flows", flows)
    shutil.copytree(ROOT / "schemas", schemas)
    (flows / "broken.json").write_text(BROKEN_FLOW)
    overrides = {**settings, "FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    application = create_app(make_config(overrides))
    yield application
    application.extensions["flowgate"].db.dispose()


@dataclass
class Live:
    url: str
    app: Flask


@pytest.fixture
def live(dashboard_app: Flask, browser: Any) -> Iterator[Live]:
    """The app served on 127.0.0.1 at an ephemeral port for the length of one test."""
    app = dashboard_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(5)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"dashboard screenshots: {SCREENSHOTS}")
