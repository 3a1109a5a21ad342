"""Which client connections come from a trusted proxy, and the client address behind one.

``ProxySettings.trusted_proxies`` lists the proxies in front of the balancer (a TLS terminator,
a CDN): only their ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port``, ``Forwarded`` and
``X-Real-IP`` are believed and passed on (:func:`vigil.balancer._http_headers.rewrite_request`
drops them from anyone else). Parsed once by :class:`~vigil.balancer._proxy_state.ProxyState`;
:class:`~vigil.balancer._proxy_client.ClientConnection` asks :func:`is_trusted` once per
connection and, for a trusted peer, :func:`forwarded_client` per request (the address the access
log and ``router_for`` see). Not compiled: nothing here runs per request of an untrusted peer.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """``ProxySettings.trusted_proxies`` parsed; ``ValueError`` naming the field and the entry."""
    nets: list[Network] = []
    for i, cidr in enumerate(cidrs):
        try:
            nets.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"trusted_proxies[{i}]: {cidr!r} is not an IP address or CIDR block "
                "(e.g. 10.0.0.0/8, 192.168.1.5, fd00::/8)"
            ) from None
    return tuple(nets)


def is_trusted(nets: tuple[Network, ...], ip: bytes) -> bool:
    """Whether the address ``ip`` (as the peer's text; an IPv4-mapped IPv6 address counts as
    its IPv4 one) is in one of ``nets``. Called once per client connection."""
    addr = _address(ip)
    return addr is not None and any(addr in net for net in nets)


def _address(text: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an address (an IPv4-mapped IPv6 one as its IPv4 address), None if it is
    not one."""
    try:
        addr = ipaddress.ip_address(text.decode("latin-1").strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def forwarded_client(nets: tuple[Network, ...], peer: bytes, xff: bytes | None) -> bytes:
    """The client's address behind a trusted ``peer``: the rightmost ``X-Forwarded-For``
    address that is not a trusted proxy (nginx's ``real_ip_recursive on``), the leftmost when
    all are, the peer when there is none."""
    if xff is None:
        return peer
    hops = [hop.strip() for hop in xff.split(b",")]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:  # not an address: what the trusted proxy says is not understood
            return peer
        if not any(addr in net for net in nets):
            return hop
    return hops[0]
