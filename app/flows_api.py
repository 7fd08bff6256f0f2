"""The stable import path for flow authors: everything flows/<name>.py may import.

A handler module imports from here and nowhere else in `app`, so Flowgate's internals can
move without breaking user code (docs/handlers.md; a test checks the example handlers)::

    from app.flows_api import FlowHandlers, HandlerContext, ScreenError

What each name means is documented where it is defined; this module only re-exports.
"""

from app.clock import now
from app.endpoint.protocol import Answer, ScreenError, TokenRejected
from app.flowjson.handlers import FlowHandlers, Handler, HandlerContext

__all__ = [
    "Answer",
    "FlowHandlers",
    "Handler",
    "HandlerContext",
    "ScreenError",
    "TokenRejected",
    "now",
]
