"""The data endpoint from raw bytes to the HTTP reply, without Flask.

The checks run in the order docs/contract.md fixes ("Contract details"): the shell has already
answered 404 (unknown or unservable flow, `EndpointService.definition`) and 413 (body over
FLOWGATE_MAX_ENDPOINT_BODY); here follow 432 (X-Hub-Signature-256 on the raw body), 400
(envelope), 421 (anything that does not decrypt to a JSON object), the encrypted ping answer,
acknowledged error notifications, then 427 for a missing or invalid flow token, and finally
routing. Every 200 and 427 body is encrypted; nothing a client sends produces a 500.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from app.crypto.envelope import (
    DecryptionError,
    EnvelopeError,
    ResponseCipher,
    decrypt_request,
    parse_envelope,
)
from app.crypto.jwt import SignatureError, verify_flow_token_signature
from app.crypto.signatures import verify_hub_signature
from app.crypto.tokens import TokenError, verify_token
from app.db import DBAPITransaction, StaleConnection
from app.endpoint import sessions
from app.endpoint.checker import check_answer
from app.endpoint.protocol import (
    AnswerViolation,
    FlowRequest,
    ScreenError,
    TokenRejected,
    acknowledgement,
    ping_answer,
    token_error_body,
)
from app.endpoint.router import GENERIC_ERROR, Exchange, error_answer, route
from app.flowjson.handlers import FlowHandlers
from app.flowjson.registry import FlowDefinition
from app.runtime import Runtime

log = logging.getLogger("flowgate.endpoint")

CONTENT_TYPE = "text/plain"
# A foreign token (not Flowgate's format) may be accepted by a flow that opts in; a token in
# Flowgate's format that fails its MAC, expired, or names another flow never is.
FOREIGN_REASONS = frozenset({"malformed", "missing"})
VALID = "valid"
T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What the shell sends: status and body (ciphertext or empty), as CONTENT_TYPE."""

    status: int
    body: str = ""
    action: str | None = None  # the decrypted request's action, for metrics
    handler_error: bool = False  # a handler failed and the screen shows the generic error


class EndpointService:
    """One per process; holds nothing per request (keys and flows live in the Runtime)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # SQLite has one writer at a time; threads of one process queue on this lock instead of
        # on SQLite's busy handler, which polls with sleeps (measured: fewer, slower requests).
        self._writer: AbstractContextManager[Any] = (
            threading.Lock() if runtime.db.is_sqlite else nullcontext()
        )

    @property
    def max_body(self) -> int:
        return self.runtime.config.max_endpoint_body

    def definition(self, flow: str) -> FlowDefinition | None:
        """The flow when it exists, is valid and has an endpoint; else None (404)."""
        definition = self.runtime.registry.servable(flow)
        return definition if definition is not None and definition.endpoint_powered else None

    def handle(self, definition: FlowDefinition, body: bytes, signature: str | None) -> Reply:
        """Verify, decrypt, dispatch and encrypt one request (see the module docstring)."""
        config = self.runtime.config
        if not verify_hub_signature(config.app_secrets, body, signature):
            log.warning(
                "flow %s: rejected request: bad X-Hub-Signature-256 (432); check that "
                "FLOWGATE_APP_SECRET is the App Secret of the Meta app that owns the flow",
                definition.name,
            )
            return Reply(432)
        try:
            envelope = parse_envelope(body)
        except EnvelopeError as exc:
            log.warning("flow %s: rejected request: %s (400)", definition.name, exc)
            return Reply(400)
        try:
            payload, cipher = decrypt_request(envelope, self.runtime.private_keys)
        except DecryptionError as exc:
            log.warning("flow %s: cannot decrypt: %s (421)", definition.name, exc.reason)
            return Reply(421)
        request = FlowRequest.from_payload(payload)
        action = request.action
        if request.is_ping:
            return Reply(200, cipher.encrypt(ping_answer()), action=action)
        handlers = definition.handlers
        if request.is_error_notification:
            self._acknowledge(definition.name, request)
            return Reply(200, cipher.encrypt(acknowledgement()), action=action)
        try:
            wa_id, foreign = self._check_token(definition.name, handlers, request)
        except TokenRejected as exc:
            return Reply(427, cipher.encrypt(token_error_body(exc.message)), action=action)
        exchange = Exchange(
            definition=definition,
            registry=self.runtime.registry,
            request=request,
            wa_id=wa_id,
            foreign=foreign,
        )
        try:
            answer, failed = self._route(exchange)
        except TokenRejected as exc:
            return Reply(427, cipher.encrypt(token_error_body(exc.message)), action=action)
        return Reply(
            200, self._checked(exchange, answer, cipher), action=action, handler_error=failed
        )

    def _check_token(
        self, flow: str, handlers: FlowHandlers, request: FlowRequest
    ) -> tuple[str | None, bool]:
        """(wa_id, foreign) of a usable token, else TokenRejected (427)."""
        config = self.runtime.config
        token = request.flow_token
        try:
            claims = verify_token(config.token_secret or "", token or "", flow=flow)
            wa_id, foreign = claims.wa_id, False
        except TokenError as exc:
            if not (handlers.accept_foreign_tokens and exc.reason in FOREIGN_REASONS):
                log.info("flow %s: flow token rejected (%s), 427", flow, exc.reason)
                raise TokenRejected(handlers.token_error_message) from None
            wa_id, foreign = None, True
        if request.flow_token_signature is not None:
            try:
                verify_flow_token_signature(
                    request.flow_token_signature, token or "", config.app_secrets
                )
            except SignatureError as exc:
                log.info("flow %s: %s, 427", flow, exc)
                raise TokenRejected(handlers.token_error_message) from None
        return wa_id, foreign

    def _acknowledge(self, flow: str, request: FlowRequest) -> None:
        """Log the client's error report and record it on the session; never refuse it."""
        try:
            verify_token(
                self.runtime.config.token_secret or "", request.flow_token or "", flow=flow
            )
            token_state = VALID
        except TokenError as exc:
            token_state = exc.reason
        report = request.error_report()
        log.warning(
            "flow %s: client reported %s on screen %s (token %s): %s",
            flow,
            report.get("error") or report.get("error_key"),
            request.screen,
            token_state,
            report.get("error_message"),
        )
        if token_state != VALID:
            return
        try:
            self._transaction(
                lambda tx: sessions.record_client_error(tx, flow, request.flow_token, report)
            )
        except Exception:
            log.exception("flow %s: could not record the client's error report", flow)

    def _route(self, ex: Exchange) -> tuple[dict[str, Any], bool]:
        """Route in one transaction; failures roll it back and become an on-screen error.

        A unique-key race (two first requests of one token creating its session, or two final
        submits storing one submission) loses with an IntegrityError; the request is routed
        once more and then finds the winner's row. The flag says a handler failed.
        """
        for attempt in (1, 2):
            try:
                return self._transaction(lambda tx: route(tx, ex)), False
            except ScreenError as exc:
                if exc.fields:
                    log.info("flow %s: invalid fields %s", ex.flow, sorted(exc.fields))
                return error_answer(ex, exc.message), False
            except (TokenRejected, AnswerViolation):
                raise
            except IntegrityError:
                if attempt == 1:
                    log.info("flow %s: concurrent request for one token, routing again", ex.flow)
                    continue
                log.exception("flow %s: %s failed on %s", ex.flow, ex.handler, ex.request.action)
            except Exception:
                log.exception("flow %s: %s failed on %s", ex.flow, ex.handler, ex.request.action)
            break
        return error_answer(ex, GENERIC_ERROR), True

    def _transaction(self, work: Callable[[DBAPITransaction], T]) -> T:
        """`work` in one write transaction; once more, on a pinged connection, if it was dead.

        The connection is taken without a pre-ping (app/db.py); a dead one fails the
        first statement, before anything was done, so running the work again is safe.
        """
        try:
            with self._writer, self.runtime.db.dbapi_transaction() as tx:
                return work(tx)
        except StaleConnection as exc:
            log.warning("database connection was closed (%s); reconnecting", exc)
        with self._writer, self.runtime.db.dbapi_transaction(ping=True) as tx:
            return work(tx)

    def _checked(self, ex: Exchange, answer: dict[str, Any], cipher: ResponseCipher) -> str:
        """Encrypt `answer` once it passes the client's checks (loud in tests)."""
        problems = check_answer(ex.model, ex.request.action, ex.from_screen, answer)
        if problems:
            log.error(
                "flow %s: answer from %s violates the Flow JSON: %s", ex.flow, ex.handler, problems
            )
            if self.runtime.config.testing:
                raise AnswerViolation(f"{ex.handler}: {'; '.join(problems)}")
            answer = error_answer(ex, GENERIC_ERROR)
        try:
            return cipher.encrypt(answer)
        except (TypeError, ValueError):  # a handler put a non-JSON value where anything goes
            log.exception("flow %s: answer from %s is not JSON", ex.flow, ex.handler)
            return cipher.encrypt(error_answer(ex, GENERIC_ERROR))
