"""The SSRF guard: which webhook URLs and addresses Flowgate may ever connect to.

A URL passes only if it is http(s) without credentials and *every* address its host
resolves to is globally routable (IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4
address inside them; the deprecated IPv4-compatible `::/96`, SIIT `::ffff:0:0:0/96`,
site-local `fec0::/10` and the 6to4 relay anycast `192.88.99.0/24` are refused outright), or
lies in FLOWGATE_WEBHOOK_ALLOW_NETWORKS. A refusal for a resolved name says only that it
"resolves to a non-public address", never which one (no mapping of internal DNS through the
API), and names FLOWGATE_WEBHOOK_ALLOW_NETWORKS as the development escape hatch. The vetted
addresses are what the transport connects to (app/delivery/pinning.py), so a DNS answer that changes
between the check and the connection (rebinding) is never used. Checked when an endpoint is
registered (quick feedback) and before every attempt (authoritative).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import ConfigError, FlowgateError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> every address (A and AAAA) as text
Resolver = Callable[[str, int], Sequence[str]]

# Ranges `is_global` misses or gets wrong on some Python versions (cpython#119812 etc.).
_ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "192.88.99.0/24",  # 6to4 relay anycast (RFC 3068, deprecated by RFC 7526)
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "::/96",  # IPv4-compatible (deprecated, RFC 4291 §2.5.5.1); holds ::/128 and ::1
        "::ffff:0:0:0/96",  # SIIT IPv4-translated (RFC 2765): ::ffff:0:a.b.c.d
        "fec0::/10",  # site-local (deprecated, RFC 3879): routed inside a site only
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


ALLOW_HINT = (
    "Webhooks go to public addresses only; for development, FLOWGATE_WEBHOOK_ALLOW_NETWORKS "
    "(CIDR list) allows given networks."
)


class SSRFRefused(FlowgateError):
    """The URL or one of its addresses is not one Flowgate may send webhooks to."""

    code = "url_not_allowed"
    status = 400


@dataclass(frozen=True)
class VettedTarget:
    """A URL that passed the guard, with the only addresses a connection may use."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """FLOWGATE_WEBHOOK_ALLOW_NETWORKS as networks; a bad CIDR is a configuration error."""
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())
    except ValueError as exc:
        raise ConfigError(f"FLOWGATE_WEBHOOK_ALLOW_NETWORKS: {exc}") from None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def refusal_reason(address: str, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why `address` must not be connected to, or None when it may be."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    inner = _embedded_ipv4(ip)
    if any(ip in net or (inner is not None and inner in net) for net in allow):
        return None
    if inner is not None:
        reason = refusal_reason(str(inner))
        return None if reason is None else f"{ip} embeds {reason}"
    if ip in _NAT64_LOCAL or ip in _SIXTOFOUR:
        return f"{ip} is a transition address"
    if ip.is_multicast:
        return f"{ip} is multicast"
    if any(ip in net for net in _ALWAYS_REFUSED) or not ip.is_global:
        kind = (
            "loopback"
            if ip.is_loopback
            else "link-local"
            if ip.is_link_local
            else "private"
            if ip.is_private
            else "reserved"
        )
        return f"{ip} is a {kind} address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every A and AAAA address of `host` (the operating system's resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url_shape(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a syntactically acceptable webhook URL (no resolution)."""
    if not isinstance(url, str) or len(url) > 2048 or any(c.isspace() for c in url):
        raise SSRFRefused("the URL must be a string of at most 2048 characters without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SSRFRefused(f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SSRFRefused("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise SSRFRefused("URLs with credentials (user:password@) are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SSRFRefused("the URL has no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def vet_url(
    url: str,
    *,
    allow: Sequence[IPNetwork] = (),
    resolver: Resolver = system_resolver,
) -> VettedTarget:
    """Check `url` and resolve its host; refuse it if any address is not allowed."""
    scheme, host, port = check_url_shape(url)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses: Sequence[str] = [host]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise SSRFRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise SSRFRefused(f"{host} has no addresses")
    literal = list(addresses) == [host]
    for address in addresses:
        reason = refusal_reason(address, allow)
        if reason is None:
            continue
        if literal:  # the caller wrote this address: naming its kind tells them nothing new
            raise SSRFRefused(f"refused {host}: {reason}. {ALLOW_HINT}")
        # Never echo what a name resolved to: anyone with an API token could map internal DNS.
        raise SSRFRefused(f"refused {host}: it resolves to a non-public address. {ALLOW_HINT}")
    return VettedTarget(url, scheme, host, port, tuple(addresses))
