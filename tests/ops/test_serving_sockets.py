"""The production settings' per-worker listening sockets (app/serving.py, docs/endpoint.md).

With `reuse_port`, each gunicorn worker listens on a socket of its own that `post_fork` opens.
It must carry what gunicorn sets on the listeners it opens itself, TCP_NODELAY above all: an
answer written in two sends (headers, then body) on a keep-alive connection otherwise waits
for the client's delayed ACK, about 40 ms per request on Linux (RFC 896, RFC 1122 4.2.3.2).
"""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from app import serving


@pytest.fixture
def shared_listener():
    """What gunicorn's master hands a worker: a listener object with `.sock`, on port 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield SimpleNamespace(sock=sock)
    sock.close()


def test_worker_socket_accepts_connections_with_nodelay(shared_listener, monkeypatch):
    monkeypatch.setattr(serving, "reuse_port", True)
    worker = SimpleNamespace(sockets=[shared_listener])
    serving.post_fork(SimpleNamespace(cfg=SimpleNamespace(backlog=16)), worker)
    (own,) = worker.sockets
    try:
        assert own is not shared_listener
        assert own.getsockname() == shared_listener.sock.getsockname()
        assert own.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        shared_listener.sock.close()  # as the master's shutdown(SHUT_RD): only `own` accepts
        client = socket.create_connection(own.getsockname(), timeout=5)
        own.setblocking(True)
        own.settimeout(5)
        accepted, _ = own.accept()
        try:
            # Linux copies the listener's TCP_NODELAY to every connection it accepts.
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        finally:
            accepted.close()
            client.close()
    finally:
        own.close()


def test_without_reuse_port_the_shared_sockets_stay(shared_listener, monkeypatch):
    monkeypatch.setattr(serving, "reuse_port", False)
    worker = SimpleNamespace(sockets=[shared_listener])
    serving.post_fork(SimpleNamespace(cfg=SimpleNamespace(backlog=16)), worker)
    assert worker.sockets == [shared_listener]
