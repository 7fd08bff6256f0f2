"""Writing what an attempt did: the delivery's new state, the attempt log, endpoint health.

Every write is fenced: it only applies `WHERE lease_owner = me AND attempts = fence`. A
worker whose lease ran out (and whose row another worker has claimed since, or an operator
has retried) updates nothing, so it can never overwrite a newer attempt; its outcome is
only logged. The attempt log row is written only with an applied outcome, since the
delivery may have been deleted together with its endpoint meanwhile.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, tuple_, update
from sqlalchemy.orm import Session

from app import clock
from app.db import Database
from app.delivery.claims import Job
from app.delivery.schedule import RetryPolicy, parse_retry_after
from app.delivery.transport import DELIVERED, GONE, THROTTLED, AttemptResult
from app.models import Delivery, DeliveryAttempt, WebhookEndpoint
from app.models.enums import DeliveryStatus

log = logging.getLogger("flowgate.delivery")

DEFAULT_DISABLE_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class OutcomePolicy:
    """How results turn into schedules and endpoint state."""

    retry: RetryPolicy
    disable_after: timedelta = DEFAULT_DISABLE_AFTER
    rng: random.Random | None = None


def record_outcomes(
    db: Database,
    owner: str,
    results: Sequence[tuple[Job, AttemptResult]],
    policy: OutcomePolicy,
) -> int:
    """Apply a batch of results in one short transaction; returns how many applied."""
    if not results:
        return 0
    with db.transaction() as session:
        return apply_outcomes(session, owner, results, policy, clock.now())


def apply_outcomes(
    session: Session,
    owner: str,
    results: Sequence[tuple[Job, AttemptResult]],
    policy: OutcomePolicy,
    now: datetime,
) -> int:
    """`record_outcomes` inside the caller's write transaction.

    Successes with the same status code share one fenced UPDATE (the common case, and what
    keeps a busy worker near the speed of plain HTTP); every other result is its own.
    """
    applied: list[tuple[Job, AttemptResult]] = []
    successes: dict[int | None, list[tuple[Job, AttemptResult]]] = {}
    for job, result in results:
        if result.outcome == DELIVERED:
            successes.setdefault(result.status_code, []).append((job, result))
        elif _apply_one(session, owner, job, result, policy, now):
            applied.append((job, result))
    for status_code, group in successes.items():
        fences = {(job.delivery_id, job.fence): (job, result) for job, result in group}
        done = session.execute(
            update(Delivery)
            .where(
                Delivery.lease_owner == owner,
                tuple_(Delivery.id, Delivery.attempts).in_(list(fences)),
            )
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                lease_owner=None,
                lease_expires_at=None,
                last_status_code=status_code,
                last_error=None,
                updated_at=now,
            )
            .returning(Delivery.id, Delivery.attempts)
            .execution_options(synchronize_session=False)
        ).all()
        applied.extend(fences[(delivery_id, fence)] for delivery_id, fence in done)
        _log_lost(set(fences) - {(d, f) for d, f in done}, DeliveryStatus.DELIVERED)
    if applied:
        session.execute(
            insert(DeliveryAttempt),
            [_attempt_row(owner, job, result, now) for job, result in applied],
        )
    for job, result in applied:
        _endpoint_health(session, job, result, policy, now)
    return len(applied)


def _log_lost(lost: set[tuple[str, int]], outcome: str) -> None:
    for delivery_id, fence in sorted(lost):
        log.warning(
            "delivery %s attempt %d: lease lost, outcome %s not recorded",
            delivery_id,
            fence,
            outcome,
        )


def _attempt_row(owner: str, job: Job, result: AttemptResult, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": job.delivery_id,
        "attempted_at": now - timedelta(milliseconds=result.duration_ms),
        "status_code": result.status_code,
        "duration_ms": result.duration_ms,
        "error": result.error,
        "response_snippet": result.snippet,
        "worker": owner[:128],
        "payload": {"attempt": job.fence, "webhook_timestamp": result.timestamp},
    }


def _apply_one(
    session: Session,
    owner: str,
    job: Job,
    result: AttemptResult,
    policy: OutcomePolicy,
    now: datetime,
) -> bool:
    """A failed attempt: reschedule or fail it, fenced by owner and attempt number."""
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_expires_at": None,
        "last_status_code": result.status_code,
        "last_error": result.error,
        "updated_at": now,
    }
    delay = None
    if result.outcome != GONE:
        delay = policy.retry.next_delay(
            job.fence,
            throttled=result.outcome == THROTTLED,
            retry_after=parse_retry_after(result.retry_after, now),
            rng=policy.rng,
        )
    if delay is None:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        values.update(status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    fenced = session.execute(
        update(Delivery)
        .where(
            Delivery.id == job.delivery_id,
            Delivery.lease_owner == owner,
            Delivery.attempts == job.fence,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not fenced.rowcount:
        _log_lost({(job.delivery_id, job.fence)}, result.outcome)
        return False
    return True


def _endpoint_health(
    session: Session, job: Job, result: AttemptResult, policy: OutcomePolicy, now: datetime
) -> None:
    """Success clears the failure run; 410 or a run longer than `disable_after` disables."""
    if result.outcome == DELIVERED:
        if job.endpoint_failing:
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == job.endpoint_id)
                .values(failing_since=None)
                .execution_options(synchronize_session=False)
            )
        return
    endpoint = session.get(WebhookEndpoint, job.endpoint_id)
    if endpoint is None:
        return
    if result.outcome == GONE:
        _disable(endpoint, f"the endpoint answered 410 Gone at {clock.isoformat(now)}", now)
        return
    since = endpoint.failing_since
    # A run forgotten for twice the window starts over (as Svix forgives old failures).
    if since is None or now - since > 2 * policy.disable_after:
        endpoint.failing_since = now
    elif endpoint.enabled and now - since >= policy.disable_after:
        _disable(endpoint, f"failing continuously since {clock.isoformat(since)}", now)


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    if endpoint.enabled:
        log.warning("disabling webhook endpoint %s: %s", endpoint.id, reason)
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
