"""One scrape: the text Prometheus reads, and who may read it.

Under gunicorn the values of every worker process are summed from the multiprocess directory
(docs/operations.md). The outbox gauges are read from the database at scrape time, so every
process (and several app servers on one PostgreSQL) reports the same truth: they describe the
shared outbox, not this process.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.models import Delivery

log = logging.getLogger("flowgate.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Loopback, RFC 1918 private, RFC 6598 shared (carrier-grade NAT), link-local, RFC 4193 unique
# local: the networks a scraper inside the deployment comes from.
INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


class OutboxCollector(Collector):
    """`flowgate_deliveries_pending` and `flowgate_delivery_oldest_pending_seconds`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        try:
            with self.db.session() as session:
                count, oldest = session.execute(
                    select(func.count(), func.min(Delivery.created_at)).where(
                        Delivery.status == "pending"
                    )
                ).one()
        except Exception as exc:  # a scrape must still show the process's own metrics
            log.warning("metrics: cannot read the outbox: %s", type(exc).__name__)
            return
        if oldest is not None and oldest.tzinfo is None:  # func.min bypasses UTCDateTime
            oldest = oldest.replace(tzinfo=clock.now().tzinfo)
        age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "flowgate_deliveries_pending", "Webhook deliveries not yet delivered or failed.", count
        )
        yield GaugeMetricFamily(
            "flowgate_delivery_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery (0 when none is pending).",
            max(0.0, age),
        )


def render(db: Database | None) -> bytes:
    """The exposition text: this process's (or every worker's) metrics plus the outbox."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if db is not None:
        extra = CollectorRegistry()
        extra.register(OutboxCollector(db))
        text += generate_latest(extra)
    return text


def allowed(remote_addr: str | None, authorization: str | None, token: str | None) -> bool:
    """With a token configured, only `Authorization: Bearer <token>` (any address); without
    one, only loopback and internal (INTERNAL) addresses."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in INTERNAL)
