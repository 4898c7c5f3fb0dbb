"""The client's address: the peer's, or X-Forwarded-For's when the peer is a trusted proxy.

An address is kept in one spelling (`canonical_ip`): an IPv4 client that reaches a
dual-stack socket or proxy as IPv4-mapped IPv6 (`::ffff:198.51.100.7`) is its IPv4
address, so its rate limit, visitor id, country and the site's excluded ranges are
the same whichever way it came.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Walk X-Forwarded-For from the right past trusted proxies; the first other address wins.

    Only a trusted peer's header is believed: anyone can send X-Forwarded-For.
    """
    peer = canonical_ip(peer or "")
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not is_address(hop):
            return peer
        hop = canonical_ip(hop)
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def canonical_ip(address: str) -> str:
    """An IPv4-mapped IPv6 address as its IPv4 address, other IPv6 addresses compressed
    and lowercased; IPv4 addresses, and text that is no address, as they are."""
    if ":" not in address:
        return address  # IPv4 (or nothing), the usual case: nothing to parse
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    return str(ip.ipv4_mapped or ip)


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
