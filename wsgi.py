"""WSGI entry point for production: `gunicorn wsgi:app` (see docs/deployment notes in README)."""

from app import create_app

app = create_app()
