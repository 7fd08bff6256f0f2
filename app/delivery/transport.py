"""One HTTP attempt: vet the URL, POST the signed body, classify what came back.

The attempt never follows redirects, never reads more than `max_response_bytes` of the
answer, and gives up at `deadline` seconds in total, connect and slow bodies included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from app import clock
from app.delivery.pinning import attempt_scope
from app.delivery.signing import webhook_headers
from app.delivery.ssrf import IPNetwork, Resolver, SSRFRefused, system_resolver, vet_url
from app.models.enums import DeliveryStatus

log = logging.getLogger("flowgate.delivery")

SNIPPET_CHARS = 1000

# What an attempt's result means for the delivery.
DELIVERED = DeliveryStatus.DELIVERED  # 2xx
RETRY = "retry"  # any other failure: try again on schedule
THROTTLED = "throttled"  # 429/502/504/timeouts: try again, later than scheduled
GONE = "gone"  # 410: the endpoint is disabled and this delivery fails


@dataclass(frozen=True)
class AttemptSettings:
    """Limits of one attempt (seconds and bytes)."""

    connect_timeout: float = 10.0
    deadline: float = 30.0
    max_response_bytes: int = 64 * 1024
    allow: Sequence[IPNetwork] = ()
    resolver: Resolver = system_resolver


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended, ready for the attempt log."""

    outcome: str
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    snippet: str | None = None
    retry_after: str | None = None
    timestamp: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def classify(status: int) -> str:
    if 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return GONE
    if status in (429, 502, 504):
        return THROTTLED
    return RETRY


def _status_error(response: httpx.Response) -> str | None:
    status = response.status_code
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        location = response.headers.get("location", "")[:200]
        return f"HTTP {status}: redirect not followed (Location: {location})"
    if status == 410:
        return "HTTP 410 Gone: the endpoint was disabled"
    return f"HTTP {status}"


def post_once(
    client: httpx.Client,
    url: str,
    msg_id: str,
    body: bytes,
    secrets: Sequence[str],
    settings: AttemptSettings,
) -> AttemptResult:
    """Send one signed attempt; never raises for network trouble (it is a result)."""
    started = time.monotonic()
    timestamp = int(clock.now().timestamp())

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = vet_url(url, allow=settings.allow, resolver=settings.resolver)
    except SSRFRefused as exc:
        return AttemptResult(RETRY, error=f"SSRF guard: {exc.message}", duration_ms=elapsed())
    headers = webhook_headers(msg_id, timestamp, body, secrets)
    timeout = httpx.Timeout(settings.deadline, connect=settings.connect_timeout)
    status: int | None = None
    try:
        with (
            attempt_scope(target, started + settings.deadline),
            client.stream("POST", url, content=body, headers=headers, timeout=timeout) as resp,
        ):
            status = resp.status_code
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= settings.max_response_bytes:
                    break
            raw = b"".join(chunks)[: settings.max_response_bytes]
    except httpx.TimeoutException as exc:
        # A response that does not finish within the deadline is a timeout even when its
        # status line arrived: the receiver did not complete the exchange.
        kind = "connect timeout" if isinstance(exc, httpx.ConnectTimeout) else "timeout"
        where = f" after HTTP {status} while reading the body" if status else ""
        return AttemptResult(
            THROTTLED,
            status_code=status,
            error=f"{kind}{where}: {exc}"[:500],
            duration_ms=elapsed(),
            timestamp=timestamp,
        )
    except httpx.HTTPError as exc:
        return AttemptResult(
            RETRY,
            status_code=status,
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_ms=elapsed(),
            timestamp=timestamp,
        )
    snippet = raw.decode("utf-8", errors="replace")[:SNIPPET_CHARS].replace("\x00", "")
    return AttemptResult(
        classify(resp.status_code),
        status_code=resp.status_code,
        error=_status_error(resp),
        duration_ms=elapsed(),
        snippet=snippet or None,
        retry_after=resp.headers.get("retry-after"),
        timestamp=timestamp,
    )
