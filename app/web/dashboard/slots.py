"""Named places in dashboard pages that other features fill in.

A slot renders `templates/dashboard/slots/<name>.html` when that file exists (nothing
otherwise), with the page's context plus whatever the providers registered for the slot
return. Slots in the pages today (docs/dashboard.md, "Slots"):
- `lead_media` (lead page; context `lead`: app.leads.browse.LeadView): the lead's files.
- `contact_extra` (each contacts row; `row`): last message text, first-touch source.
- `flow_health` (flows page, per flow; `flow`: FlowDefinition): health status, Meta alerts.
- `messages` (messages page): sent and scheduled messages with their statuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from markupsafe import Markup

Provider = Callable[..., dict[str, Any]]
PROVIDERS: dict[str, list[Provider]] = {}


def provide(name: str) -> Callable[[Provider], Provider]:
    """Register `fn(**context) -> dict` to add data to slot `name`."""

    def decorator(fn: Provider) -> Provider:
        PROVIDERS.setdefault(name, []).append(fn)
        return fn

    return decorator


def render(name: str, **context: Any) -> Markup:
    """The slot's template rendered, or nothing when no feature fills it yet."""
    if not filled(name):
        return Markup("")
    for provider in PROVIDERS.get(name, []):
        context.update(provider(**context))
    # render_template autoescapes; its output is HTML the slot's template wrote.
    return Markup(render_template(f"dashboard/slots/{name}.html", **context))  # noqa: S704


def filled(name: str) -> bool:
    """Whether a feature fills slot `name` (its template exists); looked up once per app,
    since a page may hold a slot per row (templates are fixed at startup outside debug)."""
    known: dict[str, bool] = current_app.extensions.setdefault("dashboard_slots", {})
    if name not in known or current_app.debug:
        known[name] = _exists(f"dashboard/slots/{name}.html")
    return known[name]


def _exists(template: str) -> bool:
    loader = current_app.jinja_env.loader
    try:
        if loader is not None:
            loader.get_source(current_app.jinja_env, template)
            return True
    except TemplateNotFound:
        pass
    return False
