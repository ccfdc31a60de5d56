"""Where a webhook may point: https (unless allowed otherwise), and after DNS resolution only
public addresses (unless allowed otherwise), so that a subscriber cannot make the service
call into its own network (SSRF). Checked when subscribing and again before every delivery,
which then connects to the very address checked: a name re-pointed after the check (DNS
rebinding) cannot slip a private address in between.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def resolve(url: str, *, allow_insecure: bool, allow_private: bool) -> Target:
    """The URL and the address to connect to: every address the name resolves to must be
    public, else AddressRefused naming the first that is not."""
    scheme, host, port, path = check_url(url, allow_insecure=allow_insecure)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(f"the host {host!r} does not resolve") from None
    addresses = list(dict.fromkeys(str(entry[4][0]) for entry in found))
    if not addresses:
        raise AddressRefused(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise AddressRefused(f"the host resolves to a non-public address ({address})")
    return Target(scheme, host, port, path, addresses[0])


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not private, loopback, link-local, multicast, reserved,
    unspecified or shared, looking through IPv4-mapped and 6to4/Teredo-embedded IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _teredo_client(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast and not address.is_reserved


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    teredo = address.teredo
    return None if teredo is None else teredo[1]
