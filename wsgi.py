"""WSGI entry point for production: `gunicorn -c python:app.serving wsgi:app` (README.md).

Logging is configured here (and in app/serving.py) because the app factory leaves it to the
process: FLOWGATE_LOG_FORMAT=json gives one JSON object per line (app/logs.py).

A configuration problem is printed as plain lines (every missing setting at once, no
traceback) and the process exits with gunicorn's "App failed to load" status 4, so the
gunicorn master stops instead of restarting workers that can never start.
"""

import sys

from app import create_app
from app.errors import ConfigError
from app.logs import configure_from_environment

configure_from_environment()
try:
    app = create_app()
except ConfigError as exc:
    print(exc, file=sys.stderr, flush=True)
    raise SystemExit(4) from None
