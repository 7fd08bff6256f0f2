"""The inbox of raw Meta notifications: store first, then process, never lose one.

`receive` commits the exact signed bytes (InboundNotification, status `pending`) before it
reads them, then processes them in a second transaction that also marks the row
`processed`. If processing fails, that transaction rolls back and the row is marked
`failed` with the reason, for `flowgate inbox reprocess`; if even that cannot be written,
the row stays `pending` and reprocess picks it up once it is stale. A body that is not a
readable notification is kept as `invalid` (answered 400).

Statuses: `pending` → `processed` | `failed` | `invalid`. A processed row may carry notes in
`error` (items that were skipped and why) so it can be inspected.

Meta delivers at least once: a body already stored (same SHA-256) is not stored again, and
if it was processed nothing happens; a failed or pending one is processed again. Processing
itself is idempotent item by item (dedup keys, unique statuses, content-derived alert ids,
forward-only contact times), so concurrent duplicates cannot double anything either.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.clock import now
from app.db import Database
from app.flowjson.registry import FlowRegistry
from app.ids import new_id
from app.leads.notifications.process import process_notification
from app.leads.notifications.reader import (
    MalformedNotification,
    ProcessingContext,
    parse_notification,
)
from app.leads.sanitize import clean_text
from app.models import InboundNotification
from app.models.enums import InboxStatus
from app.models.outbox import endpoint_snapshot
from app.prepared import Prepared, connection

log = logging.getLogger("flowgate.meta")

PROCESSED, FAILED, INVALID, PENDING = (
    InboxStatus.PROCESSED,
    InboxStatus.FAILED,
    InboxStatus.INVALID,
    InboxStatus.PENDING,
)
STALE_PENDING = timedelta(minutes=5)
_TABLE = InboundNotification.__table__
# Core statements built once: this runs for every notification, and the ORM's unit of work
# (or even building a statement per call) would cost more than the statements themselves.
_FIND = (
    select(_TABLE.c.id, _TABLE.c.status, _TABLE.c.error)
    .where(_TABLE.c.body_sha256 == bindparam("digest"))
    .order_by(_TABLE.c.received_at)
    .limit(1)
)
_NEW = ("id", "body", "body_sha256", "status", "attempts", "received_at")
# Stores the row unless the same bytes are stored already: one statement, so on PostgreSQL it
# commits on its own (autocommit: one round trip instead of BEGIN, SELECT, INSERT, COMMIT).
# This and the outcome run on the driver's cursor (app/prepared.py).
_STORE = Prepared(
    insert(_TABLE)
    .from_select(
        list(_NEW),
        select(*(bindparam(f"new_{c}", type_=_TABLE.c[c].type) for c in _NEW)).where(
            ~exists().where(_TABLE.c.body_sha256 == bindparam("new_body_sha256"))
        ),
    )
    .returning(_TABLE.c.id)
)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("notification_id"))
    .values(
        status=bindparam("new_status"),
        error=bindparam("new_error"),
        attempts=_TABLE.c.attempts + 1,
        processed_at=bindparam("new_processed_at"),
    )
)
_OUTCOME = Prepared(_UPDATE)

# The processing transaction's outcome on PostgreSQL, with `SET LOCAL synchronous_commit TO
# OFF` in the same statement (set_config(..., true) is SET LOCAL; the setting is read at
# COMMIT, so it may come last): one round trip less. Durability comes from the raw row,
# committed synchronously before processing: if a crash loses this commit, the row is still
# `pending` and reprocess redoes it. A worker's (synchronous) claim of one of these
# deliveries flushes the WAL past this commit before anything is sent.
_SYNC_OFF = select(func.set_config("synchronous_commit", literal("off"), literal(True)))
_OUTCOME_ASYNC = Prepared(_UPDATE.where(_SYNC_OFF.scalar_subquery().is_not(None)))


@dataclass(frozen=True)
class Inbox:
    """The inbox over one database, with what processing needs."""

    db: Database
    registry: FlowRegistry
    token_secret: str | None


@dataclass(frozen=True)
class Receipt:
    """The outcome for one notification: its row, its status now, and why if not processed."""

    notification_id: str
    status: str
    duplicate: bool = False
    problem: str | None = None


def receive(inbox: Inbox, body: bytes) -> Receipt:
    """Store `body` (already signature-checked) durably, then process it."""
    digest = hashlib.sha256(body).hexdigest()
    notification_id = new_id()
    params = {
        "new_id": notification_id,
        "new_body": body,
        "new_body_sha256": digest,
        "new_status": PENDING,
        "new_attempts": 0,
        "new_received_at": now(),
    }
    if not inbox.db.is_postgresql:
        # SQLite: the same, one connection for both. Outside a transaction the driver runs in
        # autocommit mode (app/db.py), so the raw row's INSERT is a write transaction of its
        # own, committed when the statement completes (as BEGIN IMMEDIATE, INSERT, COMMIT
        # would be, without the two extra statements).
        with inbox.db.write_connection() as conn:
            stored = bool(_STORE.rows(conn, params))
            if stored:
                return process_stored(inbox, notification_id, body, digest, conn=conn)
        return _known(inbox, body, digest)
    # PostgreSQL: one connection (one checkout, one pre-ping) for both transactions; the
    # raw row is committed synchronously by its own statement before processing starts.
    with inbox.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        stored = bool(_STORE.rows(conn, params))
        conn.commit()  # ends SQLAlchemy's transaction object; the server committed already
        conn.execution_options(isolation_level=conn.default_isolation_level)
        if stored:
            return process_stored(inbox, notification_id, body, digest, conn=conn)
    return _known(inbox, body, digest)


def _known(inbox: Inbox, body: bytes, digest: str) -> Receipt:
    """The same bytes were stored before: nothing to do if that row is done, else redo it."""
    with inbox.db.session() as session:
        row = session.connection().execute(_FIND, {"digest": digest}).one()
    if row.status in (PROCESSED, INVALID):
        return Receipt(row.id, row.status, duplicate=True, problem=row.error)
    return process_stored(inbox, row.id, body, digest, duplicate=True)


@contextmanager
def _transaction(inbox: Inbox, conn: Connection | None) -> Iterator[Session]:
    """A write transaction on `conn` when the caller holds one, else on a pooled connection."""
    if conn is None:
        with inbox.db.transaction() as session:
            yield session
    else:
        with Session(bind=conn, expire_on_commit=False) as session, session.begin():
            yield session


def process_stored(
    inbox: Inbox,
    notification_id: str,
    body: bytes,
    digest: str,
    *,
    duplicate: bool = False,
    conn: Connection | None = None,
) -> Receipt:
    """Process a stored notification and record the outcome on its row (on `conn` if given)."""
    try:
        payload = parse_notification(body)
    except MalformedNotification as exc:
        _mark(inbox, notification_id, INVALID, str(exc))
        log.warning("Meta notification %s is not readable: %s", notification_id, exc)
        return Receipt(notification_id, INVALID, duplicate, str(exc))
    ctx = ProcessingContext(inbox.registry, inbox.token_secret, notification_id, digest)
    for attempt in (1, 2):
        try:
            with _transaction(inbox, conn) as session, endpoint_snapshot(session):
                report = process_notification(session, ctx, payload)
                # Items that failed alone (the others commit): kept `failed` for reprocess.
                status = FAILED if report.failures else PROCESSED
                # On PostgreSQL this statement also turns synchronous_commit off for this
                # transaction (see _OUTCOME_ASYNC).
                _record_outcome(
                    session,
                    notification_id,
                    status,
                    report.summary(),
                    _OUTCOME_ASYNC if inbox.db.is_postgresql else _OUTCOME,
                )
            if report.failures:
                log.error(
                    "Meta notification %s kept for reprocessing: %d item(s) failed: %s",
                    notification_id,
                    len(report.failures),
                    ", ".join(report.failures)[:500],
                )
                return Receipt(notification_id, FAILED, duplicate, report.summary())
            log.debug(  # the decisions (one line per lead) are logged where they are made
                "Meta notification %s processed: %d message(s), %d new lead(s), "
                "%d duplicate(s), %d unrouted, %d status(es), %d note(s)",
                notification_id,
                report.messages,
                report.submissions,
                report.duplicates,
                report.unmatched,
                report.statuses,
                len(report.notes),
            )
            return Receipt(notification_id, PROCESSED, duplicate)
        except IntegrityError:
            # A concurrent delivery of the same items won the race; the retry sees its rows.
            log.info("notification %s met a concurrent duplicate; retrying", notification_id)
            if attempt == 2:
                return _failed(inbox, notification_id, "database conflict", duplicate)
        except SQLAlchemyError as exc:
            # Never log the statement: its parameters may hold flow tokens.
            return _failed(
                inbox, notification_id, f"database error {type(exc).__name__}", duplicate
            )
        except Exception as exc:
            log.exception("processing Meta notification %s failed", notification_id)
            return _failed(inbox, notification_id, f"{type(exc).__name__}: {exc}"[:500], duplicate)
    raise AssertionError("unreachable")


def reprocess(inbox: Inbox, ids: Sequence[str] = (), *, limit: int | None = None) -> list[Receipt]:
    """Process again the given rows, or every `failed` row and every stale `pending` one.

    Any row can be named by id, a processed one included (processing is idempotent; useful
    after a flow was added for replies that matched none).
    """
    with inbox.db.session() as session:
        query = select(
            InboundNotification.id, InboundNotification.body, InboundNotification.body_sha256
        ).order_by(InboundNotification.received_at, InboundNotification.id)
        if ids:
            query = query.where(InboundNotification.id.in_(list(ids)))
        else:
            stale = now() - STALE_PENDING
            query = query.where(
                or_(
                    InboundNotification.status == FAILED,
                    (InboundNotification.status == PENDING)
                    & (InboundNotification.received_at < stale),
                )
            )
        if limit is not None:
            query = query.limit(limit)
        rows = session.execute(query).all()
    return [process_stored(inbox, row.id, row.body, row.body_sha256) for row in rows]


def _record_outcome(
    session: Session,
    notification_id: str,
    status: str,
    error: str | None,
    statement: Prepared = _OUTCOME,
) -> None:
    statement.run(
        connection(session),
        {
            "notification_id": notification_id,
            "new_status": status,
            "new_error": error,
            "new_processed_at": now() if status == PROCESSED else None,
        },
    )


def _mark(inbox: Inbox, notification_id: str, status: str, error: str | None) -> None:
    try:
        with inbox.db.transaction() as session:
            _record_outcome(session, notification_id, status, error)
    except SQLAlchemyError as exc:  # the row stays pending; reprocess finds it when stale
        log.error("cannot mark notification %s %s: %s", notification_id, status, type(exc).__name__)


def _failed(inbox: Inbox, notification_id: str, reason: str, duplicate: bool) -> Receipt:
    reason = clean_text(reason)
    log.error("Meta notification %s kept for reprocessing: %s", notification_id, reason)
    _mark(inbox, notification_id, FAILED, reason)
    return Receipt(notification_id, FAILED, duplicate, reason)
