"""The socket type the proxy's :class:`~vigil.balancer._proxy_accept.Listener` hands uvloop.

Kept apart from :mod:`vigil.balancer._proxy_accept` (compiled by mypyc) because it subclasses
the C socket type and must stay an ordinary Python class (branch ``sse3``: a compiled build with
it inside crashed). Imported by :mod:`vigil.balancer._proxy_accept` (re-exported there).
"""

from __future__ import annotations

import _socket


class UvAccepted(_socket.socket):
    """An accepted connection's socket for uvloop, of the C type: ``family`` and ``type`` are
    plain ints.

    uvloop closes a socket object it was handed that is not a ``socket.socket`` with ``close()``
    once libuv has closed the descriptor itself (a ``socket.socket`` it detaches): here
    ``close()`` only forgets the descriptor, so that a number another thread has been given
    meanwhile is never closed. Only for uvloop: asyncio's transports close their socket with
    ``close()``, which would leak the descriptor. Garbage-collected without a transport
    (``connect_accepted_socket`` failed), it closes its descriptor as any socket does."""

    __slots__ = ()

    # the C method itself, not a Python one calling it: no interpreted frame per connection
    close = _socket.socket.detach  # type: ignore[assignment]
