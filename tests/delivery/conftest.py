"""Fixtures of the delivery tests: loopback receivers, endpoints, events and a fast worker.

Timing is compressed, never mocked: a 0.2 s retry schedule, a 1 s attempt deadline and a
3 s lease, so real retries, timeouts and lease expiry happen in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app.db import Database
from app.delivery.outcomes import OutcomePolicy
from app.delivery.schedule import RetryPolicy
from app.delivery.ssrf import parse_networks
from app.delivery.subscriptions import Guard, create_endpoint
from app.delivery.transport import AttemptSettings
from app.delivery.worker import Worker, WorkerSettings
from app.models import Delivery, DeliveryAttempt, WebhookEndpoint
from app.models.outbox import enqueue_event
from tests.delivery.receiver import Received, Receiver, Script

LOOPBACK = parse_networks(["127.0.0.1/32"])
GUARD = Guard(allow=LOOPBACK)


def fast_settings(**overrides: Any) -> WorkerSettings:
    """A worker tuned for tests: 3 attempts 0.2 s apart, 1 s deadline, 3 s lease."""
    retry = overrides.pop("retry", RetryPolicy(schedule=(0, 0.2, 0.2), throttle_floor=0.3))
    attempt = overrides.pop(
        "attempt", AttemptSettings(connect_timeout=0.5, deadline=1.0, allow=LOOPBACK)
    )
    values: dict[str, Any] = {
        "concurrency": 4,
        "lease_seconds": 3.0,
        "poll_interval": 0.05,
        "attempt": attempt,
        "outcome": OutcomePolicy(retry),
    }
    values.update(overrides)
    return WorkerSettings(**values)


def run_worker(db: Database, max_seconds: float = 20, **overrides: Any) -> Worker:
    """Run one worker until no pending work is left (bounded by `max_seconds`)."""
    worker = Worker(db, fast_settings(**overrides))
    worker.run(drain=True, max_seconds=max_seconds)
    return worker


def add_endpoint(db: Database, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    with db.transaction() as session:
        return create_endpoint(session, url, events, guard=GUARD)


def submit(db: Database, n: int = 1, **data: Any) -> list[str]:
    """Enqueue `n` flow.submitted events; returns their webhook ids."""
    ids = []
    with db.transaction() as session:
        for i in range(n):
            payload = {"submission_id": f"sub-{i}", "flow": "lead_capture", **data}
            ids.append(enqueue_event(session, "flow.submitted", payload).id)
    return ids


def verify(request: Received, secret: str) -> dict[str, Any]:
    """Check a delivery as a customer would: the official standardwebhooks package."""
    assert re.fullmatch(r"\d+", request.headers["webhook-timestamp"])
    return Webhook(secret).verify(request.body, request.headers)


def deliveries(db: Database) -> list[Delivery]:
    with db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.created_at)))


def attempts(db: Database) -> list[DeliveryAttempt]:
    with db.session() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def endpoint(db: Database, endpoint_id: str) -> WebhookEndpoint:
    with db.session() as session:
        found = session.get(WebhookEndpoint, endpoint_id)
        assert found is not None
        return found


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """A factory of loopback receivers, all closed after the test."""
    started: list[Receiver] = []

    def start(script: Script | None = None) -> Receiver:
        started.append(Receiver(script))
        return started[-1]

    yield start
    for r in started:
        r.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts worker processes (a few seconds each)")
