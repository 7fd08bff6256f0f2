"""Logging for the process entry points (`flowgate`, gunicorn's app/serving.py, wsgi.py).

The library code only names loggers (`flowgate.<area>`: endpoint, meta, leads, delivery,
api, web, instance) and never configures logging: whoever runs the process decides, and
`create_app` stays free of global side effects (tests, embedding). `configure_logging` is
that decision for Flowgate's own entry points: one stderr handler on the root logger, INFO,
as plain text or, with FLOWGATE_LOG_FORMAT=json, one JSON object per line for log shippers
(`{"time", "level", "logger", "message"}` plus `exception` and any `extra=` fields).
Written with the standard library: a formatter is a few lines, and no dependency is needed.
Log lines never carry secrets, keys or flow tokens (docs/leads.md, "Logging").
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record (non-ASCII kept, never a raw newline)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _FlowgateHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice replaces it."""


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Install Flowgate's stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _FlowgateHandler)]:
        root.removeHandler(handler)
    handler = _FlowgateHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic logs every plugin it loads at INFO whenever a command imports it; its warnings
    # still show.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


def configure_from_environment() -> None:
    """`configure_logging` with FLOWGATE_LOG_FORMAT as Config reads it (environment, .env).

    A configuration error is not raised here: it is reported by whatever loads the
    configuration next, through the handler installed (as text) meanwhile.
    """
    from app.config import Config
    from app.errors import ConfigError

    try:
        log_format = Config.load().log_format
    except ConfigError:
        log_format = "text"
    configure_logging(log_format)
