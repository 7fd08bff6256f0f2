"""What a Flowgate process needs before it starts, reported all at once and plainly.

A new deployment usually misses several settings at the same time. Reporting them one per
start-up attempt (at the bottom of a traceback) turns a five-minute job into an afternoon,
so every check here collects problems and `require` raises one `ConfigError` listing all of
them, each line naming the variable and how to produce a value. The CLI, `wsgi.py` and the
gunicorn hook in app/serving.py print that message without a traceback.

Each command asks only for what it uses (`Need`): `flowgate export` needs the database and
the flows, not the endpoint's private key; the web app needs everything.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from app.config import Config
from app.errors import ConfigError

SECRET_RECIPE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105


class Need(Enum):
    """A group of settings a command or server depends on."""

    APP_SECRET = "app_secret"  # noqa: S105 (a name, not a secret)
    TOKEN_SECRET = "token_secret"  # noqa: S105
    PRIVATE_KEY = "private_key"
    DATABASE = "database"


SERVING = (Need.APP_SECRET, Need.TOKEN_SECRET, Need.PRIVATE_KEY, Need.DATABASE)


def _secret_problems(config: Config, needs: tuple[Need, ...]) -> list[str]:
    problems = []
    dev = "run `flowgate init` (development), or "
    if Need.APP_SECRET in needs and not config.app_secrets:
        problems.append(
            "FLOWGATE_APP_SECRET is not set: copy the App Secret from your Meta app's dashboard "
            "(App settings > Basic); it checks X-Hub-Signature-256 on every request."
            + (" In development `flowgate init` writes one." if config.development else "")
        )
    if Need.TOKEN_SECRET in needs and not config.token_secret:
        problems.append(
            f"FLOWGATE_TOKEN_SECRET is not set: {dev if config.development else ''}"
            f"generate one with {SECRET_RECIPE}; it signs flow tokens, keep it stable."
        )
    return problems


def _key_problems(config: Config, loaded: list[RSAPrivateKey]) -> list[str]:
    """Load every configured key into `loaded` (parsed once), or say why one cannot be."""
    from app.crypto.keys import load_private_key

    if not config.private_key_files:
        return ["FLOWGATE_PRIVATE_KEY_FILE is not set: create a key with `flowgate keys generate`."]
    problems = []
    for path in config.private_key_files:
        if not Path(path).exists():
            problems.append(
                f"FLOWGATE_PRIVATE_KEY_FILE: cannot read {path}: it does not exist. Create it with "
                f"`flowgate keys generate --out {path}` (it prints the passphrase for "
                "FLOWGATE_PRIVATE_KEY_PASSPHRASE), then upload `flowgate keys public` to Meta."
            )
            continue
        try:
            loaded.append(load_private_key(Path(path), config.private_key_passphrase))
        except ConfigError as exc:
            problems.append(f"FLOWGATE_PRIVATE_KEY_FILE: {exc}.")
    return problems


def _database_problems(config: Config) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(config.database_url)
        url.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        return [
            f"FLOWGATE_DATABASE_URL is not a usable SQLAlchemy URL ({exc}): use "
            "postgresql://user:password@host/db or sqlite:////absolute/path.sqlite3."
        ]
    except ImportError as exc:
        return [f"FLOWGATE_DATABASE_URL needs a driver that is not installed: {exc}."]
    return []


def problems(
    config: Config, needs: tuple[Need, ...] = SERVING, keys: list[RSAPrivateKey] | None = None
) -> list[str]:
    """Every missing or unreadable setting among `needs`, one plain sentence each.

    The private keys are parsed to check them; pass `keys` to keep them (current first).
    """
    found = _secret_problems(config, needs)
    if Need.PRIVATE_KEY in needs:
        found += _key_problems(config, [] if keys is None else keys)
    if Need.DATABASE in needs:
        found += _database_problems(config)
    return found


def require(config: Config, needs: tuple[Need, ...] = SERVING) -> list[RSAPrivateKey]:
    """Raise one ConfigError naming every problem among `needs`; else the loaded keys."""
    keys: list[RSAPrivateKey] = []
    found = problems(config, needs, keys)
    if found:
        raise ConfigError(report(found, config))
    return keys


def report(found: list[str], config: Config, *, verb: str = "start") -> str:
    """The message: a headline, then one line per problem."""
    where = "production" if not config.development else "development"
    head = (
        f"Flowgate cannot {verb} ({where}, FLOWGATE_ENV={config.env}): "
        f"{len(found)} setting(s) missing or unusable:"
    )
    tail = (
        "Set them in the environment or in a .env file in the working directory "
        "(README.md, Production)."
    )
    return "\n".join([head, *(f"  - {line}" for line in found), tail])
