"""Flowgate: a self-hosted backend for WhatsApp Flows.

`create_app` builds the Flask shell around the plain-Python core (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.config import Config

if TYPE_CHECKING:  # imported in create_app: `flowgate flows validate` loads neither Flask
    from flask import Flask  # nor the database layer (app/cli/__init__.py, fast path)

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build the app. `config` overrides settings by their FLOWGATE_* names (or is a Config).

    Raises `app.errors.ConfigError` when a required secret or the private key is missing:
    Flowgate never starts half-guarded.
    """
    from flask import Flask

    from app.automations import install as install_automations
    from app.automations.checking import check_at_startup
    from app.runtime import Runtime
    from app.web import register_web

    settings = config if isinstance(config, Config) else Config.load(config)
    # Logging is configured by the process entry points (app/logs.py), not here.
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=None,  # the endpoint enforces its own limit (413) after routing
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime = Runtime.build(settings)
    app.extensions["flowgate"] = runtime
    check_at_startup(settings, runtime.registry)  # the automations rules file, like a flow
    install_automations()  # statuses of automated sends update them
    register_web(app)
    return app
