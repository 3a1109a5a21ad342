"""Transfer codings undone for an HTTP/1.0 client (RFC 9112 §6.1, §7).

An HTTP/1.0 recipient knows no ``Transfer-Encoding``: a response to an HTTP/1.0 request must
not carry one (RFC 9112 §6.1), and its body is delimited by the close. So when an upstream
applied a transfer coding besides chunked (which llhttp undoes), the proxy cannot pass it on
to such a client, as it does to an HTTP/1.1 one (``Transfer-Encoding: gzip, chunked``): it
undoes it. :func:`~vigil.balancer._http_headers.rewrite_response` makes a :class:`BodyDecoder`
for the codings of the response head (``gzip``/``x-gzip`` and ``deflate``, RFC 9112 §7.2; in
the order applied, undone last first); the exchange (:mod:`vigil.balancer._proxy_exchange`)
feeds it the body pieces and ends it. A coding it cannot undo (``compress``: LZW, no decoder in
the standard library; an unknown one) raises ``ValueError`` at the head, a corrupt or cut body
at the piece or at the end: the exchange answers 502, or cuts the client off, as for any
invalid response. Rare by construction (the proxy sends no ``TE`` upstream, so a server that
applies a transfer coding other than chunked does it unasked): nothing here is on a hot path.
A gzip body of several members is refused at the first member's end (bytes after it).
"""

from __future__ import annotations

import zlib
from typing import Final

# zlib's window bits per coding: gzip's header and trailer (16 +), deflate's zlib wrapper
_WBITS: Final = {b"gzip": 16 + zlib.MAX_WBITS, b"x-gzip": 16 + zlib.MAX_WBITS, b"deflate": 15}


class BodyDecoder:
    """Undoes ``codings`` (lower case, in the order the upstream applied them) piece by piece."""

    __slots__ = ("codings", "stages")

    def __init__(self, codings: list[bytes]) -> None:
        for coding in codings:
            if coding not in _WBITS:
                raise ValueError(
                    f"the upstream's transfer coding {coding.decode('latin-1')!r} cannot be "
                    "undone for an HTTP/1.0 client (only gzip and deflate can)"
                )
        self.codings = b", ".join(codings)
        self.stages = [zlib.decompressobj(_WBITS[coding]) for coding in reversed(codings)]

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes of the next body piece ``data`` (``ValueError``: corrupt)."""
        try:
            for stage in self.stages:
                data = stage.decompress(data)
                if stage.unused_data:
                    raise ValueError("bytes after the end of the coded body")
        except zlib.error as exc:
            raise ValueError(f"a corrupt {self.codings.decode('latin-1')} body: {exc}") from exc
        return data

    def end(self) -> bytes:
        """What is left once the body has ended (``ValueError``: the coded body was cut)."""
        data = b""
        try:
            for stage in self.stages:
                data = stage.decompress(data) + stage.flush()
                if not stage.eof:
                    raise ValueError(f"a {self.codings.decode('latin-1')} body cut short")
        except zlib.error as exc:
            raise ValueError(f"a corrupt {self.codings.decode('latin-1')} body: {exc}") from exc
        return data
