"""WSGI entry point for production: `gunicorn -c python:app.serving wsgi:app` (README.md).

A configuration problem is printed as plain lines (every missing setting at once, no
traceback) and the process exits with gunicorn's "App failed to load" status 4, so the
gunicorn master stops instead of restarting workers that can never start.
"""

import sys

from app import create_app
from app.errors import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(exc, file=sys.stderr, flush=True)
    raise SystemExit(4) from None
