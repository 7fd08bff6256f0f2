"""Leases, fencing, SIGTERM and endpoint health over time."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest

from app import clock
from app.delivery.claims import claim_due
from app.delivery.outcomes import OutcomePolicy, record_outcomes
from app.delivery.schedule import RetryPolicy, parse_retry_after
from app.delivery.transport import DELIVERED, AttemptResult
from app.delivery.worker import WorkerSettings
from app.models import WebhookEndpoint
from tests.delivery.conftest import (
    add_endpoint,
    attempts,
    deliveries,
    endpoint,
    run_worker,
    submit,
    verify,
)
from tests.delivery.processes import start_worker
from tests.delivery.receiver import Reply


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_newer_attempt(db, receiver):
    rx = receiver()
    ep = add_endpoint(db, rx.url)
    # Ten seconds ago: the event was stored and worker A claimed it with a 3 s lease, then
    # stalled (the clock is set back, not slept).
    clock.set_now(clock.now() - timedelta(seconds=10))
    submit(db)
    [stale] = claim_due(db, "worker-a", 5, 3.0, clock.now())
    assert claim_due(db, "worker-c", 5, 3.0, clock.now() + timedelta(seconds=1)) == []
    clock.set_now(None)
    run_worker(db)  # worker B reclaims the expired lease and delivers
    [d] = deliveries(db)
    assert (d.status, d.attempts) == ("delivered", 2)
    verify(rx.requests[0], ep.secret)
    late = AttemptResult(DELIVERED, status_code=200)
    policy = OutcomePolicy(RetryPolicy((0,)))
    assert record_outcomes(db, "worker-a", [(stale, late)], policy) == 0
    [after] = deliveries(db)
    assert (after.status, after.attempts, after.lease_owner) == ("delivered", 2, None)
    assert len(attempts(db)) == 1


def test_claims_are_disjoint_and_respect_the_due_time(db):
    add_endpoint(db, "http://127.0.0.1:9/x")
    submit(db, 5)
    now = clock.now()
    first = claim_due(db, "a", 3, 30, now)
    second = claim_due(db, "b", 10, 30, now)
    assert len(first) == 3 and len(second) == 2
    assert not {j.delivery_id for j in first} & {j.delivery_id for j in second}
    assert claim_due(db, "c", 10, 30, now + timedelta(seconds=29)) == []
    assert len(claim_due(db, "c", 10, 30, now + timedelta(seconds=31))) == 5


def test_an_endpoint_failing_for_the_whole_period_is_disabled(db, receiver):
    rx = receiver(lambda _n, _r: Reply(status=500))
    ep = add_endpoint(db, rx.url)
    with db.transaction() as session:
        session.get(WebhookEndpoint, ep.id).failing_since = clock.now() - timedelta(days=5, hours=1)
    submit(db)
    run_worker(db, outcome=OutcomePolicy(RetryPolicy((0, 0.2, 0.2))))
    disabled = endpoint(db, ep.id)
    assert disabled.enabled is False and "failing continuously" in disabled.disabled_reason
    assert len(rx.requests) == 1  # disabled after the first failure; the rest waits


def test_a_success_ends_the_failure_run(db, receiver):
    rx = receiver(lambda n, _r: Reply(status=500 if n == 1 else 200))
    ep = add_endpoint(db, rx.url)
    submit(db)
    with db.transaction() as session:
        session.get(WebhookEndpoint, ep.id).failing_since = clock.now() - timedelta(days=1)
    run_worker(db)
    healthy = endpoint(db, ep.id)
    assert healthy.enabled is True and healthy.failing_since is None


def test_retry_policy_bounds():
    policy = RetryPolicy((0, 5, 300), throttle_floor=60, max_retry_after=3600)
    assert policy.next_delay(3) is None
    for _ in range(50):
        assert 4.0 <= policy.next_delay(1) <= 6.0
        assert policy.next_delay(1, throttled=True) >= 60
        assert policy.next_delay(2, throttled=True) >= 600 * 0.99
        assert policy.next_delay(1, retry_after=120) >= 120
        assert policy.next_delay(1, retry_after=10**9) <= 3600
        assert policy.next_delay(2, retry_after=1) >= 240  # never sooner than scheduled
    now = clock.now()
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("soon", now) is None
    date = "Wed, 21 Oct 2099 07:28:00 GMT"
    assert parse_retry_after(date, now) > 10**8


def test_settings_refuse_a_lease_shorter_than_an_attempt():
    with pytest.raises(ValueError):
        WorkerSettings(lease_seconds=10)
    with pytest.raises(ValueError):
        WorkerSettings(concurrency=0)


@pytest.mark.slow
def test_sigterm_finishes_the_attempt_in_flight_and_releases_the_rest(
    db, receiver, settings, tmp_path
):
    rx = receiver(lambda _n, _r: Reply(delay=1.0))
    ep = add_endpoint(db, rx.url)
    submit(db, 2)
    # One thread, and a lease long enough that the second row is prefetched behind it.
    args = ("--poll", "0.05", "--timeout", "6", "--lease", "10", "--concurrency", "1")
    proc = start_worker(settings, tmp_path, *args)
    try:
        deadline = time.monotonic() + 15
        while not rx.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rx.requests, "the worker never sent"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = {d.status: d for d in deliveries(db)}
    assert (rows["delivered"].attempts, rows["delivered"].lease_owner) == (1, None)
    released = rows["pending"]
    assert (released.attempts, released.lease_owner) == (0, None)
    assert released.next_attempt_at <= clock.now()
    assert len(rx.requests) == 1
    verify(rx.requests[0], ep.secret)
