"""Who a request comes from: the peer's address, or, when the peer is a trusted reverse proxy
(``TRUSTED_PROXIES``), the client its X-Real-IP (else the last X-Forwarded-For entry) names.

Tornado's own ``xheaders`` believes those headers from any peer: a client reaching the
server directly could then name any address and step around the per-address rate limits.
"""
from __future__ import annotations

import functools
import ipaddress

from tornado.httputil import HTTPServerRequest


@functools.lru_cache(maxsize=4096)
def is_valid_ip(ip: str) -> bool:
    """Whether ``ip`` is an IPv4 or IPv6 address (as ``tornado.netutil.is_valid_ip`` says,
    without its ``getaddrinfo``, a call that lets go of the GIL on the event loop). The
    clients of the moment are remembered: ``ipaddress`` parses each address anew."""
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


class ClientAddresses:
    def __init__(self, trusted_proxies: tuple[str, ...]):
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_proxies)
        self._trusted = functools.lru_cache(maxsize=4096)(self._in_networks)

    def _in_networks(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def of(self, request: HTTPServerRequest) -> str:
        """The client's address for ``request`` (its peer's when the peer is not a proxy
        we trust, or the proxy named no valid address)."""
        peer = request.remote_ip
        if not peer or not self._networks or not self._trusted(peer):
            return peer
        named = (request.headers.get("X-Real-Ip")
                 or request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip())
        return named if named and is_valid_ip(named) else peer
