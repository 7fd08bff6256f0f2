"""Route INIT / BACK / data_exchange from the Flow JSON alone, with optional Python handlers.

- INIT answers the entry screen; its data comes from the handler, else the session, else the
  data model's `__example__` values.
- data_exchange sent by a component change (`on-select-action` and friends) refreshes the same
  screen; sent by a screen's submit (`on-click-action`) it validates that screen's fields
  against schemas/<flow>.json, merges them into the flow session and moves on by the routing
  model (the first route when there are several and no handler chooses). On the last screen
  it stores the submission with the session's merged fields (`record_submission`, in the
  caller's transaction) and closes the flow with SUCCESS.
- BACK re-renders the screen with the session's data.

Invalid input and handler failures become the same screen with `error_message`; the caller
rolls back this request's changes (the router runs inside a savepoint).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from app.db import DBAPITransaction
from app.endpoint import sessions
from app.endpoint.fields import describe, screen_errors, storable
from app.endpoint.protocol import (
    BACK,
    DATA_EXCHANGE,
    INIT,
    Answer,
    FlowRequest,
    ScreenError,
    TokenRejected,
    success_answer,
)
from app.endpoint.sessions import SessionRow
from app.flowjson.handlers import Handler, HandlerContext, handler_name
from app.flowjson.model import FlowModel, ScreenAction, ScreenModel
from app.flowjson.registry import FlowDefinition, FlowRegistry
from app.leads.intake import Intake, record_submission
from app.models.enums import LeadSource

log = logging.getLogger("flowgate.endpoint")

ALREADY_SUBMITTED = "This form has already been submitted."
GENERIC_ERROR = "Something went wrong. Please try again."
TYPE_DEFAULTS: dict[str, Any] = {
    "string": "",
    "number": 0,
    "integer": 0,
    "boolean": False,
    "array": [],
    "object": {},
}
# Component-change events: the user is still on the screen (a refresh, not a submit).
REFRESH_EVENTS = frozenset({"on-select-action", "on-unselect-action", "on-change-action"})


@dataclass
class Exchange:
    """One routed request: its inputs and, once routed, the answer and who produced it."""

    definition: FlowDefinition
    registry: FlowRegistry
    request: FlowRequest
    wa_id: str | None
    foreign: bool
    handler: str = "<default routing>"
    from_screen: str | None = None
    session_data: dict[str, Any] = field(default_factory=dict)

    @property
    def flow(self) -> str:
        return self.definition.name

    @property
    def model(self) -> FlowModel:
        return self.definition.model


def screen_data(
    screen: ScreenModel, session_data: dict[str, Any], override: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Data for every declared property: override, else a fitting session value, else example."""
    override = override or {}
    data: dict[str, Any] = {}
    for prop, schema in screen.data_model.items():
        if prop in override:
            data[prop] = override[prop]
        elif prop in session_data and screen.accepts(prop, session_data[prop]):
            data[prop] = session_data[prop]
        elif prop in screen.examples:
            data[prop] = screen.examples[prop]
        else:
            data[prop] = TYPE_DEFAULTS.get(schema.get("type"), "")
    extra = {k: v for k, v in override.items() if k not in data}
    data.update(extra)  # undeclared keys are left for the answer checker to report
    return data


def error_answer(ex: Exchange, message: str) -> dict[str, Any]:
    """The current screen again with a snackbar `error_message` (any failure ends here)."""
    screen = ex.model.screen(ex.from_screen) or ex.model.screen(ex.model.entry_screen)
    if screen is None:
        raise TokenRejected(message)
    data = screen_data(screen, ex.session_data)
    data["error_message"] = message
    return Answer(screen.id, data).to_payload()


def _call(ex: Exchange, fn: Handler | None, screen: str | None, next_screen: str | None) -> Any:
    if fn is None:
        return None
    ex.handler = handler_name(fn)
    ctx = HandlerContext(
        flow=ex.flow,
        action=ex.request.action or "",
        screen=screen,
        data=dict(ex.request.data),
        session_data=dict(ex.session_data),
        flow_token=ex.request.flow_token,
        wa_id=ex.wa_id,
        version=ex.request.version,
        next_screen=next_screen,
    )
    return fn(ctx)


def _render(ex: Exchange, target: str, result: Any) -> dict[str, Any]:
    """Turn a handler result (None, dict or Answer) into the answer for `target`."""
    override: dict[str, Any] | None = None
    if isinstance(result, Answer):
        target, override = result.screen, result.data
    elif isinstance(result, dict):
        override = result
    elif result is not None:
        raise TypeError(f"{ex.handler} returned {type(result).__name__}, not dict/Answer/None")
    screen = ex.model.screen(target)
    if screen is None:
        raise ValueError(f"{ex.handler} chose unknown screen {target!r}")
    return Answer(target, screen_data(screen, ex.session_data, override)).to_payload()


def _session(db: DBAPITransaction, ex: Exchange) -> SessionRow | None:
    if ex.foreign or not ex.request.flow_token:
        return None
    row = sessions.open_session(db, ex.flow, ex.request.flow_token, ex.wa_id)
    if row.status == sessions.ERROR:
        row.status = sessions.ACTIVE
    ex.session_data = dict(row.data or {})
    return row


def _submit_exchanges(screen: ScreenModel) -> list[ScreenAction]:
    """The screen's data_exchange actions that leave it (a footer or button tap)."""
    return [a for a in screen.actions if a.event not in REFRESH_EVENTS and a.name == DATA_EXCHANGE]


def _refresh_exchanges(screen: ScreenModel) -> list[ScreenAction]:
    """The screen's data_exchange actions fired by a component change."""
    return [a for a in screen.actions if a.event in REFRESH_EVENTS and a.name == DATA_EXCHANGE]


def _is_last(model: FlowModel, screen_id: str) -> bool:
    """A screen whose data_exchange completes the flow: terminal, or no route onwards."""
    screen = model.screens.get(screen_id)
    return bool(screen and (screen.terminal or not model.routing.get(screen_id)))


def _refreshes(screen: ScreenModel, data: dict[str, Any]) -> bool:
    """True when the data_exchange came from a component change, not the screen's submit."""
    submits = _submit_exchanges(screen)
    if not submits:
        return bool(_refresh_exchanges(screen))
    sent = set(data)
    if any(set(a.payload) == sent for a in submits):
        return False
    return any(set(a.payload) == sent for a in _refresh_exchanges(screen))


def route(db: DBAPITransaction, ex: Exchange) -> dict[str, Any]:
    """The answer payload for an INIT, BACK or data_exchange request (may raise TokenRejected).

    The session row is written once, after the answer is ready (`sessions.save`).
    """
    row = _session(db, ex)
    answer = _route(db, ex, row)
    sessions.save(db, row)
    return answer


def _route(db: DBAPITransaction, ex: Exchange, row: SessionRow | None) -> dict[str, Any]:
    req = ex.request
    if row is not None and row.status == sessions.COMPLETED:
        return _completed(ex, row)
    if req.action == INIT:
        return _init(ex, row)
    if req.action == BACK:
        return _back(ex, row)
    if req.action == DATA_EXCHANGE:
        return _exchange(db, ex, row)
    ex.from_screen = req.screen if ex.model.screen(req.screen) else (row and row.screen)
    log.warning("flow %s: unsupported action %r", ex.flow, req.action)
    raise ScreenError(GENERIC_ERROR)


def _completed(ex: Exchange, row: SessionRow) -> dict[str, Any]:
    """A finished run: a retried final submit gets the same SUCCESS, anything else 427."""
    req = ex.request
    if req.action == DATA_EXCHANGE and req.screen and _is_last(ex.model, req.screen):
        return success_answer({"flow_token": req.flow_token, "submission_id": row.submission_id})
    raise TokenRejected(ALREADY_SUBMITTED)


def _init(ex: Exchange, row: SessionRow | None) -> dict[str, Any]:
    entry = ex.model.entry_screen
    if entry is None:
        raise TokenRejected(GENERIC_ERROR)
    ex.from_screen = None
    answer = _render(ex, entry, _call(ex, ex.definition.handlers.init_handler, None, entry))
    if row is not None:
        row.screen = answer["screen"]
    return answer


def _back(ex: Exchange, row: SessionRow | None) -> dict[str, Any]:
    screen = ex.request.screen or (row.screen if row else None) or ex.model.entry_screen
    if ex.model.screen(screen) is None:
        screen = ex.model.entry_screen
    ex.from_screen = screen
    fn = ex.definition.handlers.back_handlers.get(screen or "")
    answer = _render(ex, screen or "", _call(ex, fn, screen, screen))
    if row is not None:
        row.screen = answer["screen"]
    return answer


def _exchange(db: DBAPITransaction, ex: Exchange, row: SessionRow | None) -> dict[str, Any]:
    req = ex.request
    screen = ex.model.screen(req.screen)
    if screen is None:
        ex.from_screen = row.screen if row else None
        raise ScreenError(GENERIC_ERROR)
    ex.from_screen = screen.id
    data = storable(req.data)
    ex.request = req = replace(req, data=data)  # handlers see what will be stored
    refresh = _refreshes(screen, data)
    expected: set[str] = set()
    if not refresh:
        for action in _submit_exchanges(screen):
            expected |= set(action.payload)
    errors = screen_errors(ex.definition, data, expected)
    if errors:
        raise ScreenError(describe(errors), errors)
    if row is not None:
        ex.session_data = sessions.merge_fields(row, data, screen.id)
    else:
        ex.session_data = {**ex.session_data, **data}
    last = not refresh and _is_last(ex.model, screen.id)
    routes = ex.model.next_screens(screen.id)
    target = screen.id if refresh or last or not routes else routes[0]
    fn = ex.definition.handlers.exchange_handlers.get(screen.id)
    result = _call(ex, fn, screen.id, None if last else target)
    if last and not isinstance(result, Answer):
        return _complete(db, ex, row, result if isinstance(result, dict) else {})
    answer = _render(ex, target, result)
    if row is not None:
        row.screen = answer["screen"]
    return answer


def _complete(
    db: DBAPITransaction, ex: Exchange, row: SessionRow | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """Store the merged fields as a submission and close the flow (same transaction)."""
    token = ex.request.flow_token
    intake = Intake(
        flow=ex.flow,
        fields=dict(ex.session_data),
        source=LeadSource.ENDPOINT,
        wa_id=ex.wa_id,
        # A foreign token may be static and shared by many users (templates): it must not
        # make their runs one lead, so such a submission is deduplicated by its own id.
        flow_token=None if ex.foreign else token,
    )
    # The ORM only for the lead (rare next to INIT and refreshes), on the request's connection
    # and inside its transaction: flushed here, committed with the session row.
    with Session(bind=db.connection(), join_transaction_mode="rollback_only") as orm:
        submission, created = record_submission(orm, ex.registry, intake)
        orm.flush()
    if row is not None:
        row.status = sessions.COMPLETED
        row.submission_id = submission.id
    log.info(
        "flow %s: submission %s %s (%s)",
        ex.flow,
        submission.id,
        "stored" if created else "already stored",
        submission.status,
    )
    params = {**extra, "flow_token": token or "", "submission_id": submission.id}
    return success_answer(params)
