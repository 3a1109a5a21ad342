"""A client's address as bytes and the proxy's forwarding lines for it, made once per address.

Called by :class:`vigil.balancer._proxy_client.ClientConnection` when a connection is made
(the last address's pair is also kept on :class:`~vigil.balancer._proxy_state.ProxyState`: a
burst of streams from one address finds it by one string compare). Split out of
:mod:`vigil.balancer._proxy_client` (branch ``first22``), unchanged.
"""

from __future__ import annotations

from typing import Final

from vigil.balancer._http_headers import proxy_lines

# (peer address as accept() gave it, X-Forwarded-Proto) -> (its bytes, its proxy_lines): made
# once per client address, not per connection (a burst of streams comes from few addresses);
# emptied when it grows past LINES_MAX (many distinct clients: made again, as before)
LINES: Final[dict[tuple[str, bytes], tuple[bytes, bytes]]] = {}
LINES_MAX: Final = 4096


def peer_lines(host: str, proto: bytes) -> tuple[bytes, bytes]:
    """The peer address ``host`` as bytes and its :func:`proxy_lines`, from the cache."""
    key = (host, proto)
    known = LINES.get(key)
    if known is None:
        if len(LINES) >= LINES_MAX:
            LINES.clear()
        ip = host.encode()
        LINES[key] = known = (ip, proxy_lines(ip, proto))
    return known
