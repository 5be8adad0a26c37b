"""The client's address: one function for the rate limits (login, activation, general) and the audit log.

A forwarded header (`X-Forwarded-For`) is something any client can send, so it is read only
when the connection comes from a proxy the deployment trusts (`TRUSTED_PROXIES`, addresses
or networks). Otherwise the address is the TCP peer's (`REMOTE_ADDR`, which uvicorn sets from
the socket when it runs without `--proxy-headers`, as `server.serve` does by default).

Behind trusted proxies the client is found by walking `X-Forwarded-For` from the right (each
proxy appends the address it saw): trusted addresses are skipped, the first one that is not
trusted is the client. With `NUM_PROXIES` = N the client is instead the Nth address from the
right (for proxies whose own addresses are not known in advance), still only when the peer is
trusted. A header that is not a list of addresses gives the last trusted hop, never an error.
docs/operations.md says what to set behind a load balancer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A header longer than this is cut: no proxy chain has hundreds of hops.
MAX_FORWARDED_LENGTH = 2048


@lru_cache(maxsize=16)
def trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _configured() -> tuple[tuple[IPNetwork, ...], int]:
    entries = settings.TRUSTED_PROXIES
    if isinstance(entries, str):
        entries = entries.split(",")
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    return trusted_networks(tuple(entries)), int(num_proxies)


def parse_address(value: Any) -> IPAddress | None:
    """An address from a peer or a header hop (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`), else None."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip_from(meta: Mapping[str, Any]) -> str | None:
    """The client address from a request's META."""
    peer = parse_address(meta.get("REMOTE_ADDR"))
    if peer is None:
        return None
    networks, num_proxies = _configured()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if not isinstance(forwarded, str) or not forwarded:
        return str(peer)
    hops = forwarded[-MAX_FORWARDED_LENGTH:].split(",")
    client = peer
    if num_proxies:
        # The peer is the last proxy; N proxies appended N - 1 hops after the client's.
        hop = hops[-num_proxies] if num_proxies <= len(hops) else hops[0]
        address = parse_address(hop)
        return str(address) if address is not None else str(peer)
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def client_ip(request: Any) -> str | None:
    """The client address of a Django or DRF request."""
    return client_ip_from(request.META)
