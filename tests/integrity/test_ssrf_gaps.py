"""SSRF guard: the non-global forms it used to accept, and refusals that map no internal DNS."""

from __future__ import annotations

import pytest

from app.delivery.ssrf import SSRFRefused, refusal_reason, vet_url

GAPS = [
    "::127.0.0.1",  # IPv4-compatible loopback
    "::8.8.8.8",  # IPv4-compatible (deprecated) even around a global address
    "::ffff:0:127.0.0.1",  # SIIT
    "::ffff:0:8.8.8.8",
    "fec0::1",  # site-local
    "192.88.99.1",  # 6to4 relay anycast
    "2002:c058:6301::1",  # 6to4 around 192.88.99.1
    "::ffff:10.0.0.1",  # mapped private (already refused; stays so)
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
]


@pytest.mark.parametrize("address", GAPS)
def test_non_global_forms_are_refused(address: str) -> None:
    assert refusal_reason(address) is not None
    with pytest.raises(SSRFRefused):
        vet_url(f"http://[{address}]/hook" if ":" in address else f"http://{address}/hook")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_still_pass(address: str) -> None:
    assert refusal_reason(address) is None


def test_a_refused_name_does_not_echo_what_it_resolved_to() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]  # a stub: no real lookup

    with pytest.raises(SSRFRefused) as caught:
        vet_url("https://hooks.internal.example/x", resolver=resolver)
    text = f"{caught.value.message} {caught.value.details}"
    assert "10.1.2.3" not in text and "private" not in text
    assert "resolves to a non-public address" in caught.value.message
    assert "FLOWGATE_WEBHOOK_ALLOW_NETWORKS" in caught.value.message


def test_the_api_refusal_names_the_escape_hatch(client, api_headers) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/webhook-endpoints", json={"url": "http://[::127.0.0.1]/h"}, headers=api_headers
    )
    assert response.status_code == 400
    assert "FLOWGATE_WEBHOOK_ALLOW_NETWORKS" in response.get_json()["error"]["message"]
