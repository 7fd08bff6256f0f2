"""The development `.env` that `flowgate init` owns.

Why a file: every later command (`flowgate tokens issue`, `simulate`, `export`, `worker`) and
`make run` must find the same development instance without the user exporting anything. A
`.env` in the working directory is read by app/config.py, so `init` writes there what a
development instance needs and nothing secret it could keep in the instance folder instead:

- `FLOWGATE_ENV=development`;
- `FLOWGATE_API_TOKENS`: a new admin token, so the admin API is open to its owner at once
  (printed once by `init`; it stays readable in this file, mode 0600);
- `FLOWGATE_WEBHOOK_ALLOW_NETWORKS=127.0.0.1/32`: a receiver on this machine can get
  webhooks (the SSRF guard refuses loopback otherwise, docs/delivery.md).

The app secret, verify token, token secret and key passphrase stay in instance/secrets.json.
A `.env` that `init` did not write (no marker line) is the user's and is never changed; one it
wrote only ever gains the lines it lacks, so running `init` again changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from app.config import Config
from app.crypto.keys import write_private_file

MARKER = "# Written by `flowgate init` for a development instance (docs: README.md)."


@dataclass
class EnvReport:
    """What happened to the .env: lines added, the token created (to print once), or why not."""

    path: Path
    added: list[str] = field(default_factory=list)
    api_token: str | None = None
    foreign: bool = False


def ensure_development_env(path: Path, config: Config) -> EnvReport:
    """Create or complete the development `.env` at `path` (see the module docstring)."""
    report = EnvReport(path=path)
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    if existing is not None and MARKER not in existing:
        report.foreign = True
        return report
    present = dotenv_values(path) if existing is not None else {}
    lines: list[str] = []
    if "FLOWGATE_ENV" not in present:
        lines.append("FLOWGATE_ENV=development")
    if "FLOWGATE_API_TOKENS" not in present and not config.api_tokens:
        report.api_token = "fg_" + secrets.token_urlsafe(32)
        lines += [
            "# Admin API bearer token(s), comma-separated.",
            f"FLOWGATE_API_TOKENS={report.api_token}",
        ]
    if "FLOWGATE_WEBHOOK_ALLOW_NETWORKS" not in present and not config.webhook_allow_networks:
        lines += [
            "# Lets webhooks reach a receiver on this machine (never in production).",
            "FLOWGATE_WEBHOOK_ALLOW_NETWORKS=127.0.0.1/32",
        ]
    if not lines:
        return report
    report.added = [line.split("=", 1)[0] for line in lines if not line.startswith("#")]
    head = existing if existing is not None else MARKER + "\n"
    if not head.endswith("\n"):
        head += "\n"
    write_private_file(path, (head + "\n".join(lines) + "\n").encode())
    return report
