"""Who is calling: the client's IP address, as the audit log, the rate limits and the login
lockout see it."""

import functools
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(specs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(spec, strict=False) for spec in specs)


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The direct peer, unless it is a trusted proxy (settings.TRUSTED_PROXIES): then the
    rightmost hop of X-Forwarded-For that is not a trusted proxy itself. Hops left of it were
    written by the caller and prove nothing."""
    if not settings.TRUSTED_PROXIES:
        # No proxy is trusted: the peer as the server saw it, on every request of the protocol.
        return request.META.get("REMOTE_ADDR") or None
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _trusted(peer, networks):
        return str(peer)
    nearest = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        if not hop.strip():
            continue
        address = _parse(hop)
        if address is None:
            break  # a forged or broken hop: the last trusted one is all we know
        nearest = address
        if not _trusted(address, networks):
            break
    return str(nearest)
