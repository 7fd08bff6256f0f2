"""Connections only to vetted addresses, and an overall deadline on every read and write.

httpx has no hook for "connect to this IP for that host", so the worker's client runs on an
httpcore network backend (`PinnedBackend`) that refuses to connect unless the current attempt
(`attempt_scope`) vetted the host, and then dials the vetted addresses only: no second DNS
lookup happens. TLS still uses the URL's host name for SNI and certificate checks, and the
Host header comes from the URL, because httpcore takes both from the request's origin.

httpx's read timeout is per chunk, so a receiver dripping one byte at a time never trips it.
Each stream clamps every read/write timeout to the attempt's remaining deadline instead.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from app.delivery.ssrf import VettedTarget

# address, port, connect timeout -> a connected stream (tests inject a loopback-only dialer)
Dialer = Callable[[str, int, float | None], httpcore.NetworkStream]


@dataclass(frozen=True)
class _Scope:
    target: VettedTarget
    deadline: float  # time.monotonic() value


_current: ContextVar[_Scope | None] = ContextVar("flowgate_attempt_scope", default=None)


@contextmanager
def attempt_scope(target: VettedTarget, deadline: float) -> Iterator[None]:
    """Within this block the client may connect to `target`'s vetted addresses only, and
    every network read or write gives up at `deadline` (a `time.monotonic()` value)."""
    token = _current.set(_Scope(target, deadline))
    try:
        yield
    finally:
        _current.reset(token)


def _remaining(timeout: float | None) -> float | None:
    scope = _current.get()
    if scope is None:
        return timeout
    left = scope.deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the attempt's total deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A stream whose every operation is bounded by the current attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _system_dial(address: str, port: int, timeout: float | None) -> httpcore.NetworkStream:
    return httpcore.SyncBackend().connect_tcp(address, port, timeout=timeout)


class PinnedBackend(httpcore.NetworkBackend):
    """Dials only the addresses the current attempt vetted for this host and port."""

    def __init__(self, dial: Dialer | None = None) -> None:
        self._dial = dial or _system_dial

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        scope = _current.get()
        if scope is None:
            raise httpcore.ConnectError("SSRF guard: no vetted address for this connection")
        target = scope.target
        if host.strip("[]").lower() != target.host.lower() or port != target.port:
            raise httpcore.ConnectError(f"SSRF guard: {host}:{port} was not vetted")
        last: Exception | None = None
        for address in target.addresses:
            try:
                return DeadlineStream(self._dial(address, port, _remaining(timeout)))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError("no address to connect to")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("SSRF guard: unix sockets are never used for webhooks")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over `PinnedBackend` (no proxies, no environment, no retries).

    httpx 0.28 takes no network backend, so the pool is rebuilt with one; pinned to
    httpx < 0.29 in pyproject.toml.
    """

    def __init__(self, *, dial: Dialer | None = None, max_connections: int = 100) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=PinnedBackend(dial),
        )


def pinned_client(*, dial: Dialer | None = None, max_connections: int = 100) -> httpx.Client:
    """The worker's HTTP client: pinned addresses, no redirects, no ambient proxies."""
    return httpx.Client(
        transport=PinnedTransport(dial=dial, max_connections=max_connections),
        follow_redirects=False,
        trust_env=False,
        # identity: the capped raw read must not be a decompression bomb
        headers={"user-agent": "Flowgate-Webhooks/1", "accept-encoding": "identity"},
    )
