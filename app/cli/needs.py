"""The runtime a CLI command works with, built from only the settings that command uses.

`flowgate tokens issue` needs the token secret and the flows, `flowgate export` the database
and the flows, `flowgate webhooks list` only the database: none of them needs the Meta app
secret or the endpoint's private key, so none of them asks for those (the web app needs
them all; app/settings_check.py). Missing settings are reported together, without a
traceback.

When the caller gave the command group an app of its own (tests, a script embedding the
CLI), that app's runtime is used as it is.
"""

from __future__ import annotations

from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask.cli import ScriptInfo
from sqlalchemy.engine import make_url

from app.cli.instance import load_config
from app.config import Config
from app.db import Database
from app.errors import ConfigError
from app.runtime import Runtime
from app.settings_check import Need, problems, report


def command_runtime(*needs: Need, flows: bool = False) -> Runtime:
    """A Runtime with the database, the flows (when `flows`) and the keys (when asked)."""
    ctx = click.get_current_context()
    info = ctx.find_object(ScriptInfo)
    if info is not None and _caller_app(ctx, info):
        app = info.load_app()
        runtime: Runtime = app.extensions["flowgate"]
        return runtime
    config = load_config()
    keys: list[RSAPrivateKey] = []
    found = problems(config, (*needs, Need.DATABASE), keys) + _missing_sqlite(config)
    if found:
        raise click.ClickException(report(found, config, verb="run this command"))
    try:
        runtime = Runtime(config=config, db=Database.from_config(config), private_keys=keys)
    except ConfigError as exc:  # pragma: no cover - the URL was checked above
        raise click.ClickException(str(exc)) from None
    ctx.call_on_close(runtime.db.dispose)
    if flows:
        runtime.reload_flows()
    return runtime


def _caller_app(ctx: click.Context, info: ScriptInfo) -> bool:
    """True when the ScriptInfo builds another app than `flowgate`'s own factory."""
    root = ctx.find_root().command
    own = getattr(root, "create_app", None)
    return info.create_app is not None and info.create_app is not own


def _missing_sqlite(config: Config) -> list[str]:
    """A SQLite file that does not exist yet: the instance was never prepared."""
    url = make_url(config.database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return []
    if Path(path).exists():
        return []
    return [
        f"FLOWGATE_DATABASE_URL: the SQLite database {path} does not exist: run `flowgate init` "
        "(development: also sets FLOWGATE_ENV in .env) or `flowgate db upgrade`."
    ]
