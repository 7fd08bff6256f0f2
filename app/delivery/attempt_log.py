"""The log line of one delivery attempt (docs/delivery.md): who, where, how it ended."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from app.delivery.claims import Job
from app.delivery.transport import DELIVERED, AttemptResult

log = logging.getLogger("flowgate.delivery")


def log_attempt(job: Job, result: AttemptResult) -> None:
    """One line per attempt: delivery, endpoint id and URL host, outcome (never the URL's
    path or query, which may carry a customer's own secret, nor any signing secret)."""
    level = logging.INFO if result.outcome == DELIVERED else logging.WARNING
    log.log(
        level,
        "delivery %s attempt %d to endpoint %s (host %s): %s%s%s",
        job.delivery_id,
        job.fence,
        job.endpoint_id,
        urlsplit(job.url).hostname or "?",
        result.outcome,
        f" HTTP {result.status_code}" if result.status_code is not None else "",
        f" ({result.error})" if result.error else "",
    )
