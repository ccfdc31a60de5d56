"""Which addresses a webhook may be delivered to: a table, case by case, with why."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from app.core.config import Settings
from app.webhooks.address import AddressRefused, AddressRules, address_rules, is_public, resolve

REFUSED = {
    # is_global admits these (on some or all Python versions).
    "192.0.0.8": "IETF protocol assignments, 192.0.0.0/24, all of it",
    "192.0.0.9": "... even the anycast ones newer Pythons call global",
    "192.0.0.170": "NAT64 discovery",
    "192.88.99.1": "6to4 relay anycast",
    "fec0::1": "site-local",
    "3fff::1": "documentation (RFC 9637)",
    "2002:5db8:d70e::1": "6to4 embedding a public IPv4 address: routed by a relay",
    "2002:a00:1::1": "6to4 embedding 10.0.0.1",
    "2001:0:5db8:d70e:0:f227:a247:28f1": "Teredo with a public client address",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "64:ff9b::5db8:d70e": "NAT64 of a public address: the translator decides",
    "64:ff9b::a9fe:a9fe": "NAT64 of the cloud metadata address",
    "64:ff9b:1::a00:1": "local-use NAT64",
    "::ffff:0:a00:1": "IPv4-translated",
    "::a00:1": "IPv4-compatible (deprecated)",
    "5f00::1": "SRv6 SIDs",
    # Refused before too, kept so.
    "100.64.0.1": "carrier-grade NAT",
    "198.18.0.1": "benchmarking",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "0.0.0.0": "this network",  # noqa: S104  (an address refused, not one bound)
    "127.0.0.1": "loopback",
    "10.1.2.3": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local: cloud metadata",
    "224.0.0.1": "multicast",
    "::ffff:10.0.0.1": "IPv4-mapped private",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::1": "loopback",
    "::": "unspecified",
    "fc00::1": "unique local",
    "fd12:3456::1": "unique local",
    "fe80::1": "link-local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "100::1": "discard-only",
}
ALLOWED = {
    "93.184.215.14": "public IPv4",
    "1.1.1.1": "public IPv4",
    "192.0.1.1": "next to 192.0.0.0/24",
    "198.20.0.1": "next to 198.18.0.0/15",
    "100.128.0.1": "next to 100.64.0.0/10",
    "2606:4700::1111": "public IPv6",
    "2a00:1450:4009:81f::200e": "public IPv6",
    "::ffff:93.184.215.14": "IPv4-mapped public: the socket connects to the IPv4 address",
}


@pytest.mark.parametrize(("address", "why"), REFUSED.items())
def test_refused(address: str, why: str) -> None:
    assert not is_public(ipaddress.ip_address(address)), why


@pytest.mark.parametrize(("address", "why"), ALLOWED.items())
def test_allowed(address: str, why: str) -> None:
    assert is_public(ipaddress.ip_address(address)), why


def test_the_teredo_row_does_embed_a_public_client() -> None:
    """The table's Teredo case is the dangerous one: looking through it would pass it."""
    teredo = ipaddress.IPv6Address("2001:0:5db8:d70e:0:f227:a247:28f1").teredo
    assert teredo is not None
    assert is_public(teredo[1])


def test_a_refusal_does_not_name_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Else a subscriber learns what the service's resolver says of internal names."""

    def internal(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        assert host == "db.internal.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    with pytest.raises(AddressRefused) as refused:
        resolve("https://db.internal.example/hook", allow_insecure=False, allow_private=False)
    assert str(refused.value) == "the host does not resolve to public addresses only"
    assert "10.20" not in str(refused.value)


def test_a_name_that_does_not_resolve_is_refused_as_a_private_one_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two messages would tell a subscriber which internal names exist."""

    def nowhere(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    with pytest.raises(AddressRefused) as refused:
        resolve("https://nothing.internal.example/hook", allow_insecure=False, allow_private=False)
    assert str(refused.value) == "the host does not resolve to public addresses only"


def test_the_rules_come_from_the_settings(settings: Settings) -> None:
    strict = settings.model_copy(
        update={"webhook_allow_insecure": False, "webhook_allow_private": False}
    )
    assert address_rules(strict) == AddressRules(allow_insecure=False, allow_private=False)
    loose = strict.model_copy(update={"webhook_allow_private": True})
    assert address_rules(loose) == AddressRules(allow_insecure=False, allow_private=True)
