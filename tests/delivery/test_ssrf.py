"""The SSRF guard. Real connections go to loopback only: every other address class is tested
through the guard's decision, with a stub resolver and a dialer that fails the test if it is
ever asked to connect outside 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import httpcore
import httpx
import pytest

from app.delivery.pinning import attempt_scope, pinned_client
from app.delivery.ssrf import SSRFRefused, parse_networks, refusal_reason, vet_url
from app.delivery.transport import RETRY, AttemptSettings, post_once
from app.delivery.worker import Worker
from tests.delivery.conftest import LOOPBACK, add_endpoint, deliveries, fast_settings, submit
from tests.delivery.receiver import Receiver

REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "::1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "fd12:3456::1"],
    "link-local": ["169.254.1.1", "fe80::1"],
    "metadata": ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1"],
    "reserved": ["0.0.0.0", "240.0.0.1", "255.255.255.255", "100.64.0.1", "198.18.0.1", "::"],
    "documentation": ["192.0.2.10", "198.51.100.7", "203.0.113.9", "2001:db8::1"],
    "ipv4-mapped": ["::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254"],
    "nat64/6to4": ["64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:a00:1::1", "2002:7f00:1::"],
}
GLOBAL = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


class StubResolver:
    """Answers from a table and counts lookups; never touches DNS."""

    def __init__(self, table: dict[str, Sequence[Sequence[str]]]) -> None:
        self.table = {host: list(answers) for host, answers in table.items()}
        self.calls: list[str] = []

    def __call__(self, host: str, _port: int) -> Sequence[str]:
        self.calls.append(host)
        answers = self.table[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


class LoopbackOnlyDialer:
    """The only way out of a test client: fails the test for any non-loopback address."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    def __call__(self, address: str, port: int, timeout: float | None) -> httpcore.NetworkStream:
        if ipaddress.ip_address(address) not in ipaddress.ip_network("127.0.0.0/8"):
            pytest.fail(f"attempted a real connection to {address}")
        self.dialled.append(address)
        return httpcore.SyncBackend().connect_tcp(address, port, timeout=timeout)


@pytest.mark.parametrize(
    "address", [a for group in REFUSED.values() for a in group], ids=lambda a: a
)
def test_non_global_addresses_are_refused(address):
    assert refusal_reason(address) is not None


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_pass(address):
    assert refusal_reason(address) is None


def test_allow_list_exempts_only_its_networks():
    allow = parse_networks(["127.0.0.1/32", "10.9.0.0/16"])
    assert refusal_reason("127.0.0.1", allow) is None
    assert refusal_reason("::ffff:127.0.0.1", allow) is None
    assert refusal_reason("10.9.3.4", allow) is None
    assert refusal_reason("127.0.0.2", allow) is not None
    assert refusal_reason("10.8.0.1", allow) is not None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http://user:pw@example.com/",
        "http:///nohost",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "not a url",
    ],
)
def test_bad_urls_are_refused_without_resolving(url):
    resolver = StubResolver({})
    with pytest.raises(SSRFRefused):
        vet_url(url, resolver=resolver)
    assert resolver.calls == []


@pytest.mark.parametrize(
    "answers",
    [["10.0.0.7"], ["169.254.169.254"], ["93.184.216.34", "192.168.0.5"], ["::ffff:127.0.0.1"]],
)
def test_a_hostname_with_any_refused_address_is_refused(answers):
    resolver = StubResolver({"hooks.example.com": [answers]})
    with pytest.raises(SSRFRefused) as info:
        vet_url("https://hooks.example.com/in", resolver=resolver)
    assert info.value.code == "url_not_allowed"


def test_a_public_hostname_is_vetted_with_all_its_addresses():
    resolver = StubResolver({"hooks.example.com": [["93.184.216.34", "2606:2800:220:1::1"]]})
    target = vet_url("https://hooks.example.com/in", resolver=resolver)
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1::1")
    assert (target.host, target.port, target.scheme) == ("hooks.example.com", 443, "https")


def test_the_connection_goes_to_the_vetted_address_with_the_original_host(receiver):
    rx = receiver()
    dialer = LoopbackOnlyDialer()
    resolver = StubResolver({"hooks.customer.test": [["127.0.0.1"]]})
    settings = AttemptSettings(deadline=2, allow=LOOPBACK, resolver=resolver)
    url = f"http://hooks.customer.test:{rx.port}/in"
    with pinned_client(dial=dialer) as client:
        result = post_once(client, url, "msg_1", b"{}", ["whsec_" + "A" * 32], settings)
    assert result.status_code == 200
    assert dialer.dialled == ["127.0.0.1"]
    assert resolver.calls == ["hooks.customer.test"]  # one lookup: the vetted one
    assert rx.requests[0].headers["host"] == f"hooks.customer.test:{rx.port}"


def test_dns_rebinding_to_a_private_address_is_refused_before_connecting(receiver):
    rx = receiver()
    dialer = LoopbackOnlyDialer()
    resolver = StubResolver({"rebind.test": [["127.0.0.1"], ["10.0.0.1"], ["169.254.169.254"]]})
    settings = AttemptSettings(deadline=2, allow=LOOPBACK, resolver=resolver)
    url = f"http://rebind.test:{rx.port}/in"
    with pinned_client(dial=dialer) as client:
        first = post_once(client, url, "msg_1", b"{}", ["whsec_" + "A" * 32], settings)
        second = post_once(client, url, "msg_1", b"{}", ["whsec_" + "A" * 32], settings)
        third = post_once(client, url, "msg_1", b"{}", ["whsec_" + "A" * 32], settings)
    assert first.status_code == 200
    for refused in (second, third):
        assert refused.outcome == RETRY and refused.error.startswith("SSRF guard")
        assert refused.status_code is None
    assert dialer.dialled == ["127.0.0.1"] and len(rx.requests) == 1


def test_the_client_refuses_to_connect_outside_an_attempt(receiver):
    rx = receiver()
    dialer = LoopbackOnlyDialer()
    with pinned_client(dial=dialer) as client, pytest.raises(httpx.ConnectError):
        client.post(rx.url, content=b"{}")
    assert dialer.dialled == [] and rx.requests == []


def test_the_client_refuses_a_host_the_attempt_did_not_vet(receiver):
    rx = receiver()
    dialer = LoopbackOnlyDialer()
    target = vet_url(rx.url, allow=LOOPBACK)
    other = Receiver()
    try:
        with (
            pinned_client(dial=dialer) as client,
            attempt_scope(target, deadline=1e12),
            pytest.raises(httpx.ConnectError),
        ):
            client.post(other.url.replace("127.0.0.1", "localhost"), content=b"{}")
    finally:
        other.close()
    assert dialer.dialled == [] and other.requests == []


def test_ambient_proxy_settings_are_ignored(receiver, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.1.2.3:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.1.2.3:3128")
    rx = receiver()
    dialer = LoopbackOnlyDialer()
    settings = AttemptSettings(deadline=2, allow=LOOPBACK)
    with pinned_client(dial=dialer) as client:
        result = post_once(client, rx.url, "msg_1", b"{}", ["whsec_" + "A" * 32], settings)
    assert result.status_code == 200 and dialer.dialled == ["127.0.0.1"]


def test_every_attempt_is_checked_again(db, receiver):
    """Registered while loopback was allowed; a worker without the exemption refuses it."""
    rx = receiver()
    add_endpoint(db, rx.url)
    submit(db)
    dialer = LoopbackOnlyDialer()
    settings = fast_settings(attempt=AttemptSettings(deadline=1, allow=()))
    with pinned_client(dial=dialer) as client:
        Worker(db, settings, client=client).run(drain=True, max_seconds=10)
    [d] = deliveries(db)
    assert d.status == "failed" and "SSRF guard" in d.last_error and "loopback" in d.last_error
    assert rx.requests == [] and dialer.dialled == []
