"""Where a webhook may point: https (unless allowed otherwise), and after DNS resolution only
public addresses (unless allowed otherwise), so that a subscriber cannot make the service
call into its own network (SSRF). Checked when subscribing and again before every delivery,
which then connects to the very address checked: a name re-pointed after the check (DNS
rebinding) cannot slip a private address in between.

"Public" is Python's ``is_global`` and, on top of it, an explicit list (DENIED): ``is_global``
varies between Python versions and admits ranges a receiver never lives in that can still
reach into a network (192.0.0.0/24, the 6to4 relay anycast, site-local IPv6). Addresses that
embed an IPv4 address for a translator or tunnel (6to4, Teredo, NAT64) are refused outright:
where the packet ends up depends on a relay we do not control.

A refusal never names the address a host resolved to: the subscriber would otherwise learn
what the service's resolver says of internal names.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never a webhook receiver, whatever ``is_global`` says in this Python version.
DENIED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT, shared address space
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments, all of it (NAT64 discovery, DS-Lite, ...)
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/8",  # unspecified, loopback, v4-compatible, v4-translated, NAT64 64:ff9b::/96
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: embeds an IPv4 address
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing (SRv6) SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
# Of IPv6, only global unicast is ever a receiver's.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


@dataclass(frozen=True)
class AddressRules:
    """What the deployment allows beyond https to public addresses (tests, closed networks)."""

    allow_insecure: bool
    allow_private: bool


def address_rules(settings: Settings) -> AddressRules:
    """The rules of this deployment: the same at subscribing and at every delivery."""
    return AddressRules(settings.webhook_allow_insecure, settings.webhook_allow_private)


class AddressRefused(ValueError):
    """The URL may not be called; the message says why, without echoing the URL's secrets."""


@dataclass(frozen=True)
class Target:
    """A URL and the one address the service will connect to for it."""

    scheme: str
    host: str  # as in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query
    address: str

    @property
    def connect_url(self) -> str:
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = {"https": 443, "http": 80}[self.scheme]
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def check_url(url: str, *, allow_insecure: bool) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a URL a webhook may have; AddressRefused if not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("the URL is not valid") from None
    allowed = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in allowed:
        raise AddressRefused("the URL must use https")
    if not parts.hostname:
        raise AddressRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("the URL may not carry credentials")
    if parts.fragment:
        raise AddressRefused("the URL may not have a fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default, path


NOT_PUBLIC = "the host does not resolve to public addresses only"


def resolve(url: str, *, allow_insecure: bool, allow_private: bool) -> Target:
    """The URL and the address to connect to: the name must resolve, and to public addresses
    only, else AddressRefused. One message for both: which one, or which address, would tell
    a subscriber what internal names exist and what they resolve to."""
    scheme, host, port, path = check_url(url, allow_insecure=allow_insecure)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(NOT_PUBLIC) from None
    addresses = list(dict.fromkeys(str(entry[4][0]) for entry in found))
    if not addresses:
        raise AddressRefused(NOT_PUBLIC)
    if not allow_private:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise AddressRefused(NOT_PUBLIC)
    return Target(scheme, host, port, path, addresses[0])


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast that no rule above denies. An IPv4-mapped IPv6 address is
    the IPv4 address it maps (the socket connects to that); other embeddings are denied."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address not in GLOBAL_UNICAST:
            return False
    if any(address in network for network in DENIED):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved
