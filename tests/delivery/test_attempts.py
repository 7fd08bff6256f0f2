"""One worker against real loopback receivers: status classes, retries, timeouts, signing."""

from __future__ import annotations

import time

from app import clock
from app.delivery.subscriptions import rotate_secret
from tests.delivery.conftest import (
    add_endpoint,
    attempts,
    deliveries,
    endpoint,
    run_worker,
    submit,
    verify,
)
from tests.delivery.receiver import Reply, refused_url


def test_500_500_200_is_delivered_on_the_third_attempt(db, receiver):
    rx = receiver(lambda n, _r: Reply(status=500 if n < 3 else 200))
    ep = add_endpoint(db, rx.url)
    [event_id] = submit(db, wa_id="15550001")
    run_worker(db)
    [d] = deliveries(db)
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 3, 200)
    assert [a.status_code for a in attempts(db)] == [500, 500, 200]
    assert rx.ids() == [event_id] * 3
    timestamps = [r.headers["webhook-timestamp"] for r in rx.requests]
    for request in rx.requests:
        body = verify(request, ep.secret)
        assert body["type"] == "flow.submitted"
        assert body["data"]["wa_id"] == "15550001"
    # The bytes are the stored serialisation, identical on every attempt.
    assert len({r.body for r in rx.requests}) == 1
    assert timestamps == sorted(timestamps)


def test_schedule_exhausted_marks_failed_and_keeps_it(db, receiver):
    rx = receiver(lambda _n, _r: Reply(status=503, body=b"down for maintenance"))
    add_endpoint(db, rx.url)
    submit(db)
    run_worker(db)
    [d] = deliveries(db)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 3, 503)
    assert d.last_error == "HTTP 503"
    logged = attempts(db)
    assert len(logged) == 3 and logged[0].response_snippet == "down for maintenance"
    assert len(rx.requests) == 3


def test_redirect_is_a_failure_and_is_not_followed(db, receiver):
    target = receiver()
    rx = receiver(lambda _n, _r: Reply(status=301, headers={"location": target.url}))
    add_endpoint(db, rx.url)
    submit(db)
    run_worker(db)
    [d] = deliveries(db)
    assert (d.status, d.last_status_code) == ("failed", 301)
    assert "redirect not followed" in d.last_error
    assert target.requests == []


def test_410_fails_the_delivery_and_disables_the_endpoint(db, receiver):
    rx = receiver(lambda _n, _r: Reply(status=410))
    ep = add_endpoint(db, rx.url)
    submit(db, 2)
    run_worker(db)
    disabled = endpoint(db, ep.id)
    assert disabled.enabled is False and "410" in disabled.disabled_reason
    statuses = sorted(d.status for d in deliveries(db))
    # The first 410 disables the endpoint; what was not yet attempted waits for re-enabling.
    assert statuses.count("failed") >= 1
    assert len(rx.requests) <= 2


def test_connection_refused_is_retried_then_failed(db):
    add_endpoint(db, refused_url())
    submit(db)
    run_worker(db)
    [d] = deliveries(db)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 3, None)
    assert "ConnectError" in d.last_error
    assert all(a.status_code is None for a in attempts(db))


def test_silent_receiver_times_out_at_the_deadline(db, receiver):
    rx = receiver(lambda n, _r: Reply(delay=3.0) if n == 1 else Reply())
    add_endpoint(db, rx.url)
    submit(db)
    started = time.monotonic()
    run_worker(db)
    [d] = deliveries(db)
    assert d.status == "delivered" and d.attempts == 2
    first = attempts(db)[0]
    assert first.status_code is None and first.error.startswith("timeout")
    assert 900 <= first.duration_ms < 1800
    # A timeout backs off harder: at least the throttle floor (0.3 s) before attempt 2.
    gap = rx.requests[1].at - rx.requests[0].at
    assert gap >= 0.3 + 0.9
    assert time.monotonic() - started < 10


def test_drip_fed_body_hits_the_total_deadline(db, receiver):
    # 40 bytes at 0.1 s each: every chunk is "on time", the whole answer is not.
    rx = receiver(lambda n, _r: Reply(body=b"x" * 40, drip=0.1) if n == 1 else Reply())
    add_endpoint(db, rx.url)
    submit(db)
    run_worker(db)
    first = attempts(db)[0]
    assert first.status_code == 200 and "timeout after HTTP 200" in first.error
    assert first.duration_ms < 1500
    [d] = deliveries(db)
    assert d.status == "delivered" and d.attempts == 2


def test_429_retry_after_is_respected(db, receiver):
    throttled = Reply(status=429, headers={"retry-after": "1"})
    rx = receiver(lambda n, _r: throttled if n == 1 else Reply())
    add_endpoint(db, rx.url)
    submit(db)
    run_worker(db)
    [d] = deliveries(db)
    assert d.status == "delivered" and d.attempts == 2
    assert rx.requests[1].at - rx.requests[0].at >= 1.0


def test_large_response_is_read_only_up_to_the_cap(db, receiver):
    rx = receiver(lambda _n, _r: Reply(body=b"y" * 5_000_000))
    add_endpoint(db, rx.url)
    submit(db)
    run_worker(db)
    [d] = deliveries(db)
    assert d.status == "delivered"
    assert len(attempts(db)[0].response_snippet) == 1000


def test_rotation_signs_with_both_secrets(db, receiver):
    rx = receiver()
    ep = add_endpoint(db, rx.url)
    old = ep.secret
    with db.transaction() as session:
        new = rotate_secret(session, ep.id).secret
    assert new != old and new.startswith("whsec_")
    submit(db)
    run_worker(db)
    [request] = rx.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(request, old)
    verify(request, new)


def test_after_the_overlap_only_the_new_secret_signs(db, receiver):
    from standardwebhooks import WebhookVerificationError

    rx = receiver()
    ep = add_endpoint(db, rx.url)
    old = ep.secret
    with db.transaction() as session:
        rotated = rotate_secret(session, ep.id)
        rotated.previous_secret_expires_at = clock.now()
        new = rotated.secret
    submit(db)
    run_worker(db)
    [request] = rx.requests
    verify(request, new)
    try:
        verify(request, old)
    except WebhookVerificationError:
        pass
    else:
        raise AssertionError("the expired secret must not verify")


def test_one_event_has_one_webhook_id_on_every_endpoint(db, receiver):
    a, b = receiver(), receiver()
    ep_a, ep_b = add_endpoint(db, a.url), add_endpoint(db, b.url)
    [event_id] = submit(db)
    run_worker(db)
    assert a.ids() == b.ids() == [event_id]
    verify(a.requests[0], ep_a.secret)
    verify(b.requests[0], ep_b.secret)
    assert ep_a.secret != ep_b.secret
