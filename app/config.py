"""Configuration: every `FLOWGATE_*` setting in one typed object.

Precedence, highest first: explicit overrides (`create_app(config)`), the process
environment, a `.env` file in the working directory, secrets that `flowgate init` wrote
into the instance folder (`instance/secrets.json`), then defaults. Names and defaults are
fixed by docs/contract.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.database_url import normalise_database_url
from app.errors import ConfigError

DEFAULT_RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v23.0"
SECRETS_FILE = "secrets.json"
ENVIRONMENTS = ("production", "development")
LOG_FORMATS = ("text", "json")

# Media uploads (docs/media.md): Meta's CDN and attachment hosts, and what a flow accepts.
DEFAULT_MEDIA_HOSTS = ("whatsapp.net", "fbsbx.com", "fbcdn.net")
DEFAULT_MEDIA_TYPES = ("image/*", "application/pdf")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(value: str) -> float:
    """`3600`, `90s`, `15m`, `12h` or `30d` as seconds (ValueError otherwise)."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:]) if text else None
    number = float(text[:-1] if unit else text)
    if number < 0:
        raise ValueError(f"negative duration {value!r}")
    return number * (unit or 1)


def _split(value: str | None) -> tuple[str, ...]:
    """Comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Config:
    """Resolved settings. Build it with `Config.load()`; fields mirror docs/contract.md's table."""

    env: str = "production"
    instance_path: Path = Path("instance")
    database_url: str = ""
    # Connections each process keeps open, and how many more it may open under load
    # (SQLAlchemy's QueuePool; docs/scaling.md sizes them against PostgreSQL's max_connections).
    db_pool_size: int = 5
    db_max_overflow: int = 10
    flows_dir: Path = Path("flows")
    schemas_dir: Path = Path("schemas")
    private_key_files: tuple[Path, ...] = ()
    private_key_passphrase: str | None = field(default=None, repr=False)
    app_secrets: tuple[str, ...] = field(default=(), repr=False)
    verify_token: str | None = field(default=None, repr=False)
    token_secret: str | None = field(default=None, repr=False)
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    max_endpoint_body: int = 1_048_576
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    access_token: str | None = field(default=None, repr=False)
    phone_number_id: str | None = None
    waba_id: str | None = None  # Meta's Flows API: /{WABA_ID}/flows (docs/flows.md)
    public_url: str | None = None  # https origin Meta reaches; flow endpoint_uri (docs/flows.md)
    metrics_token: str | None = field(default=None, repr=False)
    meta_flow_ids: tuple[str, ...] = ()  # "name=meta flow id" pairs (docs/operations.md)
    metrics_enabled: bool = True  # per-request endpoint recording (docs/operations.md)
    media_dir: Path = Path("instance/media")
    media_hosts: tuple[str, ...] = DEFAULT_MEDIA_HOSTS
    max_media_bytes: int = 26_214_400
    media_link_ttl: float = 7 * 86400.0
    media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    media_wait_seconds: float = 300.0
    media_link_secret: str | None = field(default=None, repr=False)
    # Automations (docs/automations.md): the rules file, human takeover, window warnings, links.
    automations_file: Path = Path("flows/automations.json")
    human_pause_seconds: float = 1800.0
    window_warning_seconds: float = 3600.0
    business_number: str | None = None
    testing: bool = False
    log_format: str = "text"  # FLOWGATE_LOG_FORMAT: text | json (app/logs.py)

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def secrets_path(self) -> Path:
        return self.instance_path / SECRETS_FILE

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        dotenv_path: str | os.PathLike[str] | None = ".env",
    ) -> Config:
        """Resolve every setting (see the module docstring for precedence)."""
        values: dict[str, Any] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            from dotenv import dotenv_values  # only with a .env: `flows validate` starts fast

            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})

        def get(name: str) -> Any:
            return values.get(f"FLOWGATE_{name}") or None

        env = str(get("ENV") or "production").lower()
        if env not in ENVIRONMENTS:
            raise ConfigError(f"FLOWGATE_ENV must be one of {ENVIRONMENTS}, not {env!r}")
        instance = Path(get("INSTANCE_PATH") or "instance").absolute()
        stored = _read_instance_secrets(instance / SECRETS_FILE)
        key_files = _split(get("PRIVATE_KEY_FILE")) or (str(instance / "flow_private.pem"),)
        try:
            schedule = tuple(float(s) for s in _split(get("WEBHOOK_RETRY_SCHEDULE")))
            max_body = int(get("MAX_ENDPOINT_BODY") or 1_048_576)
        except ValueError as exc:
            raise ConfigError(f"bad number in configuration: {exc}") from None
        if any(s < 0 for s in schedule) or max_body <= 0:
            raise ConfigError("retry delays and FLOWGATE_MAX_ENDPOINT_BODY must be positive")
        try:
            max_media = int(get("MAX_MEDIA_BYTES") or 26_214_400)
            link_ttl = duration_seconds(get("MEDIA_LINK_TTL") or "7d")
            media_wait = duration_seconds(get("MEDIA_WAIT_SECONDS") or "300")
        except ValueError as exc:
            raise ConfigError(f"bad media setting: {exc}") from None
        if max_media <= 0 or link_ttl <= 0:
            raise ConfigError("FLOWGATE_MAX_MEDIA_BYTES and FLOWGATE_MEDIA_LINK_TTL must be > 0")
        try:
            pool_size = int(get("DB_POOL_SIZE") or 5)
            max_overflow = int(get("DB_MAX_OVERFLOW") or 10)
        except ValueError as exc:
            raise ConfigError(f"bad database pool setting: {exc}") from None
        if pool_size < 1 or max_overflow < 0:
            raise ConfigError("FLOWGATE_DB_POOL_SIZE must be >= 1, FLOWGATE_DB_MAX_OVERFLOW >= 0")
        token_secret = get("TOKEN_SECRET") or stored.get("token_secret")
        return cls(
            env=env,
            instance_path=instance,
            database_url=normalise_database_url(
                get("DATABASE_URL") or f"sqlite:///{instance / 'flowgate.sqlite3'}"
            ),
            db_pool_size=pool_size,
            db_max_overflow=max_overflow,
            flows_dir=Path(get("FLOWS_DIR") or "flows").absolute(),
            schemas_dir=Path(get("SCHEMAS_DIR") or "schemas").absolute(),
            private_key_files=tuple(Path(p) for p in key_files),
            private_key_passphrase=get("PRIVATE_KEY_PASSPHRASE")
            or stored.get("private_key_passphrase"),
            # A generated app secret only ever stands in for development: production must be told.
            app_secrets=_split(get("APP_SECRET"))
            or (_split(stored.get("app_secret")) if env == "development" else ()),
            verify_token=get("VERIFY_TOKEN")
            or (stored.get("verify_token") if env == "development" else None),
            token_secret=token_secret,
            api_tokens=_split(get("API_TOKENS")),
            webhook_allow_networks=_split(get("WEBHOOK_ALLOW_NETWORKS")),
            webhook_retry_schedule=schedule or DEFAULT_RETRY_SCHEDULE,
            max_endpoint_body=max_body,
            graph_api_url=get("GRAPH_API_URL") or DEFAULT_GRAPH_API_URL,
            access_token=get("ACCESS_TOKEN"),
            phone_number_id=get("PHONE_NUMBER_ID"),
            # Only the factory's explicit config (the test suite) may switch testing on: a
            # stray TESTING=1 in a production environment or .env must not turn a broken
            # answer into a plaintext 500 with its reason (docs/endpoint.md).
            testing=str((overrides or {}).get("TESTING", "")).lower() in ("1", "true"),
            log_format=_log_format(get("LOG_FORMAT")),
            waba_id=get("WABA_ID"),
            public_url=(get("PUBLIC_URL") or "").rstrip("/") or None,
            metrics_token=get("METRICS_TOKEN"),
            meta_flow_ids=_split(get("META_FLOW_IDS")),
            metrics_enabled=str(get("METRICS_ENABLED") or "1").lower()
            not in ("0", "false", "no", "off"),
            media_dir=Path(get("MEDIA_DIR") or instance / "media").absolute(),
            media_hosts=tuple(h.lower().lstrip(".") for h in _split(get("MEDIA_HOSTS")))
            or DEFAULT_MEDIA_HOSTS,
            max_media_bytes=max_media,
            media_link_ttl=link_ttl,
            media_types=tuple(t.lower() for t in _split(get("MEDIA_TYPES"))) or DEFAULT_MEDIA_TYPES,
            media_wait_seconds=media_wait,
            # Signed download links: their own key, else one derived from the token secret.
            media_link_secret=get("MEDIA_LINK_SECRET") or token_secret,
            automations_file=Path(
                get("AUTOMATIONS_FILE") or Path(get("FLOWS_DIR") or "flows") / "automations.json"
            ).absolute(),
            human_pause_seconds=_seconds(get("HUMAN_PAUSE_SECONDS"), 1800.0),
            window_warning_seconds=_seconds(get("WINDOW_WARNING_SECONDS"), 3600.0),
            business_number=get("BUSINESS_NUMBER"),
        )


def _log_format(value: str | None) -> str:
    chosen = (value or "text").strip().lower()
    if chosen not in LOG_FORMATS:
        raise ConfigError(f"FLOWGATE_LOG_FORMAT must be one of {LOG_FORMATS}, not {chosen!r}")
    return chosen


def _seconds(value: Any, default: float) -> float:
    """A non-negative number of seconds (FLOWGATE_*_SECONDS), else a ConfigError."""
    try:
        seconds = default if value is None else float(value)
    except ValueError:
        raise ConfigError(f"bad number of seconds in configuration: {value!r}") from None
    if not 0 <= seconds < 10**9:
        raise ConfigError(f"seconds must be between 0 and 10^9, not {value!r}")
    return seconds


def _read_instance_secrets(path: Path) -> dict[str, str]:
    """Secrets `flowgate init` generated; absent file means none."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return {str(k): str(v) for k, v in data.items() if v is not None}
