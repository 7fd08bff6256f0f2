"""Per-flow Python handlers: the optional code a developer puts in flows/<flow>.py.

A flow works from its JSON alone; a module adds behaviour where JSON cannot (dynamic data
such as free time slots, or rejecting input with a message)::

    from app.flows_api import Answer, FlowHandlers, HandlerContext, ScreenError, TokenRejected

    handlers = FlowHandlers()

    @handlers.on_init
    def start(ctx: HandlerContext) -> dict:          # data for the entry screen
        return {"slots": free_slots()}

    @handlers.on_data_exchange("APPOINTMENT")
    def picked(ctx: HandlerContext) -> dict | Answer | None:
        if ctx.data.get("date") == "2026-12-25":
            raise ScreenError("We are closed on that day.")
        return {"time": slots_for(ctx.data["date"])}

A handler gets a `HandlerContext` and returns None (the default answer), a dict (data merged
over the default data of the screen the router chose) or an `Answer` (another screen; the
routing model still has to allow it). Raising `ScreenError` re-renders the screen with an
error message, `TokenRejected` answers 427. Any other exception is logged and becomes an
encrypted on-screen error, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TOKEN_ERROR = "This form has expired. Please ask for a new one."  # noqa: S105


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may read. `session_data` already includes this request's fields."""

    flow: str
    action: str
    screen: str | None
    data: dict[str, Any]
    session_data: dict[str, Any]
    flow_token: str | None
    wa_id: str | None
    version: str | None
    next_screen: str | None = None  # where the router would go by default


Handler = Callable[[HandlerContext], Any]


@dataclass
class FlowHandlers:
    """Settings and handlers of one flow.

    `accept_foreign_tokens`: accept flow tokens Flowgate did not issue (Flows sent from
    templates with a static token); such runs have no per-user session (see docs/endpoint.md).
    `webhook_default`: this flow is the fallback for an nfm_reply with neither a verifiable
    flow token nor a known context message.
    """

    accept_foreign_tokens: bool = False
    webhook_default: bool = False
    token_error_message: str = DEFAULT_TOKEN_ERROR
    init_handler: Handler | None = None
    exchange_handlers: dict[str, Handler] = field(default_factory=dict)
    back_handlers: dict[str, Handler] = field(default_factory=dict)

    def on_init(self, fn: Handler) -> Handler:
        """Decorator: compute the entry screen's data (or choose another screen) on INIT."""
        self.init_handler = fn
        return fn

    def on_data_exchange(self, screen: str) -> Callable[[Handler], Handler]:
        """Decorator: handle a data_exchange sent from `screen`."""

        def register(fn: Handler) -> Handler:
            self.exchange_handlers[screen] = fn
            return fn

        return register

    def on_back(self, screen: str) -> Callable[[Handler], Handler]:
        """Decorator: compute `screen`'s data when the user comes back to it (refresh_on_back)."""

        def register(fn: Handler) -> Handler:
            self.back_handlers[screen] = fn
            return fn

        return register


def handler_name(fn: Handler | None) -> str:
    """`module.function`, as logged next to an answer violation."""
    if fn is None:
        return "<default routing>"
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
