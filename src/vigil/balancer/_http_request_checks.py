"""Checks of a request head that llhttp does not make, for the client side of the data plane.

Called by :class:`vigil.balancer._proxy_client.ClientConnection` (``on_headers_complete``: each
``Host`` value; ``data_received``: why llhttp stopped at a request line). Pure functions of
bytes and strings. Split out of :mod:`vigil.balancer._proxy_client` (branch ``first22``),
unchanged.
"""

from __future__ import annotations

from typing import Final

from vigil.balancer._http_plain import HOST_BYTES

# 1 for a byte a Host value may have (a bytes index: compiled, an inline load)
HOST_TABLE: Final = bytes(int(c in HOST_BYTES) for c in range(256))


def unsupported_version(reason: str, version: str) -> bool:
    """Whether llhttp stopped at a request line (``reason``: the parser error's text, ``version``:
    the parser's ``get_http_version()`` after it) because of a well-formed HTTP version the
    proxy does not speak: 505 then (RFC 9110 §15.6.6), 400 for a malformed one. llhttp says
    "Invalid HTTP version" only when the version is ``DIGIT "." DIGIT`` and not one it takes
    (HTTP/3.0, HTTP/9.9, HTTP/0.1; it holds the digits); HTTP/1.2 is a minor version it
    rejects: 400 as before. A malformed version is "Invalid major version", "Invalid minor
    version", "Expected dot" or "Expected CRLF after version". HTTP/2's connection preface
    (prior-knowledge h2c: "PRI * HTTP/2.0") makes it pause, "Pause on PRI/Upgrade" (an
    ``Upgrade`` request raises ``HttpParserUpgrade`` instead).

    Judged from the parser, not from the read: a request pipelined behind a good one in the
    same read was judged by the read's first line (``HTTP/3.0`` then got 400, and ``HTTP/x.1``
    sent first 505; branch ``suspect20``)."""
    if reason == "Pause on PRI/Upgrade":
        return True
    return reason == "Invalid HTTP version" and not version.startswith("1.")


def host_value(value: bytes) -> bool:
    """Whether a Host value (llhttp has cut its OWS) has only the bytes of ``uri-host [":"
    port]`` (RFC 9112 §3.2: 400 otherwise): a space, ``/``, ``@``, ``?``, a quote... are not."""
    table = HOST_TABLE
    return all(table[c] for c in value)  # compiled: a loop over the bytes, no generator
