"""WSGI entry point for production: `gunicorn wsgi:app` (see docs/deployment notes in README).

Logging is configured here (and in app/serving.py) because the app factory leaves it to the
process: FLOWGATE_LOG_FORMAT=json gives one JSON object per line (app/logs.py).
"""

from app import create_app
from app.logs import configure_from_environment

configure_from_environment()
app = create_app()
