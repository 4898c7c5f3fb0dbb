"""Whose address counts: the peer's, or X-Forwarded-For's behind a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest

from footfall.client_ip import canonical_ip, client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        ("203.0.113.5", None, PROXIES, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", PROXIES, "203.0.113.5"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1", (), "10.0.0.2"),  # no trusted proxies configured
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.9", PROXIES, "198.51.100.1"),  # spoofed left
        ("10.0.0.2", "10.0.0.7, 10.0.0.9", PROXIES, "10.0.0.2"),  # only proxies
        ("10.0.0.2", "garbage, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, garbage", PROXIES, "10.0.0.2"),  # a broken hop: stop there
        ("::1", "2001:db8::7", PROXIES, "2001:db8::7"),
        # IPv4-mapped IPv6 (a dual-stack socket's or proxy's spelling) is the IPv4 address
        ("::ffff:203.0.113.5", None, PROXIES, "203.0.113.5"),
        ("::ffff:203.0.113.5", None, (), "203.0.113.5"),
        ("::ffff:10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1"),  # a trusted proxy
        ("10.0.0.2", "::ffff:198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "0:0:0:0:0:FFFF:c633:6401, ::ffff:10.0.0.9", PROXIES, "198.51.100.1"),
        ("::1", "2001:DB8:0::7", PROXIES, "2001:db8::7"),  # one spelling of each address
    ],
)
def test_client_ip(peer, forwarded_for, trusted, expected):
    assert client_ip(peer, forwarded_for, trusted) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("198.51.100.7", "198.51.100.7"), ("::ffff:198.51.100.7", "198.51.100.7"),
     ("::FFFF:C633:6407", "198.51.100.7"), ("2001:db8::1", "2001:db8::1"),
     ("2001:0DB8:0000::1", "2001:db8::1"), ("::1", "::1"), ("not an address", "not an address")],
)  # fmt: skip
def test_canonical_ip_maps_ipv4_mapped_addresses_to_ipv4(text, expected):
    assert canonical_ip(text) == expected
