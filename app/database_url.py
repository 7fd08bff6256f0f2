"""`FLOWGATE_DATABASE_URL` as people write it, mapped to the driver Flowgate installs.

SQLAlchemy reads a bare `postgresql://` (and Heroku-style `postgres://`) as "use psycopg2",
which Flowgate does not install: it ships psycopg 3 (pyproject.toml). Both spellings are
accepted and mean `postgresql+psycopg://`; an explicit driver (`postgresql+psycopg2://`) is
left as written. See https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#module-sqlalchemy.dialects.postgresql.psycopg
"""

from __future__ import annotations

DEFAULT_POSTGRES_DRIVER = "postgresql+psycopg"
_BARE = ("postgresql://", "postgres://")


def normalise_database_url(url: str) -> str:
    """`postgresql://…` and `postgres://…` become `postgresql+psycopg://…`; others unchanged."""
    for prefix in _BARE:
        if url[: len(prefix)].lower() == prefix:
            return f"{DEFAULT_POSTGRES_DRIVER}://{url[len(prefix) :]}"
    return url
