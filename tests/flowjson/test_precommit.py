"""The `.pre-commit-hooks.yaml` other repositories use: its hook runs the real command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> list[dict[str, object]]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list)
    return hooks


def test_the_hook_has_what_pre_commit_requires() -> None:
    (hook,) = _hooks()
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["id"] == "flowgate-validate" and hook["language"] == "python"
    pattern = re.compile(str(hook["files"]))
    assert pattern.search("flows/lead_capture.json") and pattern.search("bot/flows/a.json")
    assert not pattern.search("package.json") and not pattern.search("flows/sub/x.json")


def test_the_entry_runs_on_the_files_pre_commit_passes(tmp_path: Path) -> None:
    (hook,) = _hooks()
    entry = shlex.split(str(hook["entry"]))
    script = Path(sys.executable).with_name(entry[0])  # the console script of this install
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text((ROOT / "flows" / "lead_capture.json").read_text())
    bad.write_text('{"version": "7.3"}')
    ok = subprocess.run([script, *entry[1:], str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run(
        [script, *entry[1:], str(good), str(bad)], capture_output=True, text=True
    )
    assert failed.returncode == 1 and "MISSING_REQUIRED_PROPERTY" in failed.stdout
