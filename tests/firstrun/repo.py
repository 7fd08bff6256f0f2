"""A fresh copy of the repository, the README's code blocks, and processes started from them.

The copy holds every file git tracks (or would: untracked files not ignored), no `.env`,
no `instance/`; its `.venv` is a link to the running one, so `make run` installs nothing
and `flowgate` imports the copy's `app` (PYTHONPATH). Processes are started in their own
session and stopped by their process group id, never by name.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT

VENV = Path(sys.executable).parent.parent
# What a fresh clone does not have (.gitignore), for copies made without git.
NOT_COPIED = (".git", ".venv", "instance", ".env", "__pycache__", "*.egg-info", ".*_cache")


def fresh_copy(target: Path) -> Path:
    """Copy the repository's files to `target` (see the module docstring)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. a tarball)
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*NOT_COPIED))
        (target / ".venv").symlink_to(VENV)
        return target
    for raw in listed:
        if not raw:
            continue
        source = ROOT / raw.decode()
        if not source.is_file():
            continue  # deleted in the work tree
        dest = target / raw.decode()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    (target / ".venv").symlink_to(VENV)
    return target


def clean_env(repo: Path, **extra: str) -> dict[str, str]:
    """The environment of a new shell in `repo`: no FLOWGATE_* of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    env.update(PYTHONPATH=str(repo), PYTHONUNBUFFERED="1")
    env["PATH"] = f"{repo / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def section(markdown: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = markdown.index(heading + "\n") + len(heading) + 1
    stop = re.compile(rf"^#{{1,{level}}} ", re.M).search(markdown, start)
    return markdown[start : stop.start() if stop else len(markdown)]


def code_blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of `language` in `text`."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def shell_commands(block: str) -> list[str]:
    """One entry per command of a shell block; a heredoc stays with its command."""
    commands: list[str] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        heredoc = re.search(r"<<'?(\w+)'?", line)
        if heredoc:
            end = heredoc.group(1)
            body = [line]
            while i < len(lines) and lines[i] != end:
                body.append(lines[i])
                i += 1
            body.append(end)
            i += 1
            commands.append("\n".join(body))
        else:
            commands.append(line)
    return commands


def without_comment(command: str) -> str:
    """A one-line command without its trailing `# comment`."""
    return re.sub(r"\s+#\s.*$", "", command).strip()


class Processes:
    """Background processes of one test, stopped at the end (process group, TERM then KILL)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], cwd: Path, env: dict[str, str], log: Path, **kw):  # type: ignore[no-untyped-def]
        out = open(log, "ab")  # noqa: SIM115 (the child holds it)
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )
        out.close()
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.started:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `predicate` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_match(log: Path, pattern: str) -> re.Match[str] | None:
    """The first match of `pattern` in the log written so far."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return re.search(pattern, text)
