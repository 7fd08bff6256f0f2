"""Starting real `flowgate worker` processes for the crash and multi-worker tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLOWGATE = Path(sys.executable).with_name("flowgate")


def start_worker(
    settings: dict[str, str], cwd: Path, *args: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`flowgate worker` with the test's FLOWGATE_* settings and nothing from the developer's
    environment (`cwd` has no .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    env.update({k: v for k, v in settings.items() if k.startswith("FLOWGATE_")})
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed by the child)
    return subprocess.Popen(
        [str(FLOWGATE), "worker", *args], cwd=cwd, env=env, stdout=out, stderr=out
    )
