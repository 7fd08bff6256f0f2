"""`flowgate init`: prepare an instance folder so the app can start.

Creates what is missing and never replaces what exists, so running it twice changes nothing
(the keys stay the same). Development instances also get an app secret and a verify token;
production ones must be given those through the environment.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Config
from app.crypto.keys import generate_private_key, private_pem, public_pem, write_private_file
from app.private_files import private_dir

log = logging.getLogger("flowgate.instance")


@dataclass
class InitReport:
    """What `init` did, for the command to print."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def init_instance(config: Config) -> InitReport:
    """Create the instance folder, secrets and key pair that are missing."""
    report = InitReport()
    private_dir(config.instance_path)  # 0700: secrets, keys and the database live here
    stored = _load_secrets(config.secrets_path)
    wanted = {"token_secret": config.token_secret, "private_key_passphrase": None}
    if config.development:
        wanted["app_secret"] = ",".join(config.app_secrets) or None
        wanted["verify_token"] = config.verify_token
    changed = False
    for name, from_env in wanted.items():
        if from_env or stored.get(name):
            report.kept.append(name)
            continue
        stored[name] = secrets.token_urlsafe(32)
        report.created.append(name)
        changed = True
    if changed:
        write_private_file(config.secrets_path, json.dumps(stored, indent=2).encode() + b"\n")

    key_path = config.private_key_files[0]
    if key_path.exists():
        report.kept.append(str(key_path))
    else:
        passphrase = config.private_key_passphrase or stored["private_key_passphrase"]
        key = generate_private_key()
        write_private_file(key_path, private_pem(key, passphrase))
        key_path.with_name(_public_name(key_path)).write_bytes(public_pem(key))
        report.created.append(str(key_path))
    return report


def _public_name(private_path: Path) -> str:
    stem = private_path.stem.replace("private", "public")
    return (stem if stem != private_path.stem else stem + "_public") + ".pem"


def _load_secrets(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
