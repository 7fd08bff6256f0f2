"""A migrated-schema database, a copy of the example flows and a loopback fake of Meta."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.db import Database
from tests.conftest import ROOT
from tests.metaflows.fake_meta import FakeMeta

TOKEN = "EAAG-flows-api-test-token-never-printed"
WABA = "102290129340398"
PHONE = "106540352242922"
PUBLIC_URL = "https://flows.example.com"


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    with FakeMeta(TOKEN, WABA) as fake:
        yield fake


@pytest.fixture
def env(settings: dict[str, str], db: Database, meta: FakeMeta, tmp_path: Path) -> dict[str, str]:
    """FLOWGATE_* for the CLI: the test database (tables created), flows copied, Meta faked."""
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    return {
        **{k: v for k, v in settings.items() if k.startswith("FLOWGATE_")},
        "FLOWGATE_FLOWS_DIR": str(flows),
        "FLOWGATE_GRAPH_API_URL": meta.url,
        "FLOWGATE_ACCESS_TOKEN": TOKEN,
        "FLOWGATE_WABA_ID": WABA,
        "FLOWGATE_PHONE_NUMBER_ID": PHONE,
        "FLOWGATE_PUBLIC_URL": PUBLIC_URL,
    }


def flowgate(env: dict[str, str], *args: str) -> Result:
    """Run the real `flowgate` group as a user would (no app is built for these commands)."""
    from app.cli import cli

    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
