"""Transfer codings undone for an HTTP/1.0 client (RFC 9112 §6.1, §7).

An HTTP/1.0 recipient knows no ``Transfer-Encoding``: a response to an HTTP/1.0 request must
not carry one (RFC 9112 §6.1), and its body is delimited by the close. So when an upstream
applied a transfer coding besides chunked (which llhttp undoes), the proxy cannot pass it on
to such a client, as it does to an HTTP/1.1 one (``Transfer-Encoding: gzip, chunked``): it
undoes it. :func:`~vigil.balancer._http_response.rewrite_response` makes a :class:`BodyDecoder`
for the codings of the response head (``gzip``/``x-gzip`` and ``deflate``, RFC 9112 §7.2; in
the order applied, undone last first); the exchange (:mod:`vigil.balancer._proxy_exchange`)
feeds it the body pieces and ends it. A coding it cannot undo (``compress``: LZW, no decoder in
the standard library; an unknown one) raises ``ValueError`` at the head, a corrupt or cut body
at the piece or at the end: the exchange answers 502, or cuts the client off, as for any
invalid response. Rare by construction (the proxy sends no ``TE`` upstream, so a server that
applies a transfer coding other than chunked does it unasked): nothing here is on a hot path.
A gzip body may hold several members in a row (RFC 1952 §2.2, what ``cat a.gz b.gz`` makes):
each is decoded in turn, under the same bound; zero bytes after a member are padding and
skipped, as gzip(1) ("trailing zero bytes ignored") and Python's ``gzip`` skip them (tape and
block-padded files have them); other bytes after a member that do not begin a gzip member are a
corrupt body, and so is any byte after a deflate (zlib) stream's end.

The output is bounded, against a compression bomb from a hostile or broken replica (10 MB of
zeros gzip to 10 kB, 1 GB to 1 MB): at any point the decoded bytes (of every stage) may be at
most :data:`MAX_RATIO` times the coded bytes received so far, plus :data:`SLACK`. Each stage
decodes with zlib's ``max_length`` set to what is left of that allowance plus one, so a piece
never inflates past it in memory: one byte more (or input left over, ``unconsumed_tail``) is a
``ValueError``, and the exchange cuts the client off and counts a protocol error, as for a
corrupt body. The whole body decodes to at most ``MAX_RATIO`` times its coded size plus
``SLACK``. And it is decoded as the client takes it: :meth:`BodyDecoder.feed` only holds the
coded bytes, :meth:`BodyDecoder.take` decodes at most :data:`SLICE` bytes of the first stage
at a time, and the exchange writes each slice and stops once the client's write buffer is full
(``pause_writing``; the upstream's reading is paused then), going on at ``resume_writing``; a
response whose end came meanwhile ends once all is written. So one upstream read (at most 256
KiB, which may decode to 25.6 MiB) is never decoded whole in memory nor queued whole for a slow
client. Real text and
JSON compress 3 to 20 times: a legitimate body over 100 to 1 that is larger than ``SLACK``
decoded is refused (the upstream should send it as ``Content-Encoding`` instead, which the
proxy never touches).
"""

from __future__ import annotations

import zlib
from typing import Final

# zlib's window bits per coding: gzip's header and trailer (16 +), deflate's zlib wrapper
_WBITS: Final = {b"gzip": 16 + zlib.MAX_WBITS, b"x-gzip": 16 + zlib.MAX_WBITS, b"deflate": 15}
# the decoded bytes allowed per coded byte received, and in any case (see the module docstring)
MAX_RATIO: Final = 100
SLACK: Final = 1 << 20
# the most decoded bytes (of the first stage) written to the client at once; then the exchange
# checks the client's write buffer (pause_writing) before decoding more
SLICE: Final = 64 * 1024


class BodyDecoder:
    """Undoes ``codings`` (lower case, in the order the upstream applied them) piece by piece."""

    __slots__ = ("coded", "codings", "decoded", "full", "held", "members", "stages")

    def __init__(self, codings: list[bytes]) -> None:
        for coding in codings:
            if coding not in _WBITS:
                raise ValueError(
                    f"the upstream's transfer coding {coding.decode('latin-1')!r} cannot be "
                    "undone for an HTTP/1.0 client (only gzip and deflate can)"
                )
        self.codings = b", ".join(codings)
        self.stages = [zlib.decompressobj(_WBITS[coding]) for coding in reversed(codings)]
        # per stage: the window bits of its next gzip member, or 0 (deflate: one stream only)
        self.members = [_WBITS[c] if c != b"deflate" else 0 for c in reversed(codings)]
        self.coded = 0  # the coded bytes received
        self.decoded = 0  # the bytes decoded by all stages (each stage's output counts)
        self.held = b""  # coded bytes received and not decoded yet (see take)
        self.full = False  # the first stage's last output stopped at its limit: it has more

    def feed(self, data: bytes) -> None:
        """The next coded body piece: held until :meth:`take` decodes it."""
        self.coded += len(data)
        self.held = self.held + data if self.held else data

    def pending(self) -> bool:
        """Whether :meth:`take` has more to give."""
        return bool(self.held) or self.full

    def take(self, limit: int) -> bytes:
        """The next decoded bytes of what is held: the first stage's output stops at ``limit``
        bytes (the rest stays held), so a read of the upstream that decodes to megabytes is
        written in slices, as the client takes them (``ValueError``: corrupt, or it decodes
        past the bound). Empty: nothing is held any more."""
        try:
            data = self._first(limit)
            for i in range(1, len(self.stages)):
                data = self._stage(i, data)
        except zlib.error as exc:
            raise ValueError(f"a corrupt {self.codings.decode('latin-1')} body: {exc}") from exc
        return data

    def _first(self, limit: int) -> bytes:
        """The first stage's output for the held bytes, at most ``limit`` bytes of it (gzip
        members and zero padding as in :meth:`_stage`)."""
        data, self.held = self.held, b""
        out: list[bytes] = []
        size = 0
        stage = self.stages[0]
        while size < limit and (data or self.full):
            if stage.eof:  # padding, or the next gzip member
                self.full = False
                if not data:
                    break
                if not self.members[0]:
                    raise ValueError("bytes after the end of the coded body")
                data = data.lstrip(b"\0")
                if not data:
                    break
                stage = self.stages[0] = zlib.decompressobj(self.members[0])
            piece = self._inflate(stage, data, limit - size)
            self.full = len(piece) == limit - size  # zlib may hold output still
            out.append(piece)
            size += len(piece)
            data = stage.unused_data if stage.eof else stage.unconsumed_tail
        self.held = data
        return b"".join(out)

    def _stage(self, i: int, data: bytes) -> bytes:
        """Stage ``i``'s output for ``data``: a gzip member's end starts the next member, and
        zero bytes after a member are padding, skipped (gzip(1) and Python's ``gzip`` do)."""
        stage = self.stages[i]
        out = b""
        if not stage.eof:
            out = self._inflate(stage, data)
            data = stage.unused_data  # empty until the stream has ended
        while data:  # the stream has ended: padding, or the next gzip member
            wbits = self.members[i]
            if not wbits:
                raise ValueError("bytes after the end of the coded body")
            data = data.lstrip(b"\0")
            if not data:
                break
            stage = self.stages[i] = zlib.decompressobj(wbits)
            out += self._inflate(stage, data)
            data = stage.unused_data
        return out

    def _inflate(self, stage: zlib._Decompress, data: bytes, limit: int = 0) -> bytes:
        """``stage``'s output for ``data``, never more than the allowance left (ValueError);
        ``limit`` (> 0): at most that many bytes, the input left in ``unconsumed_tail``."""
        # never negative (decoded stays within it); max_length is never 0 (zlib's "no limit")
        allowed = max(SLACK + MAX_RATIO * self.coded - self.decoded, 0)
        bounded = 0 < limit <= allowed  # the slice, not the allowance, stops the output
        out = stage.decompress(data, limit if bounded else allowed + 1)
        if len(out) > allowed or (stage.unconsumed_tail and not bounded):
            raise ValueError(
                f"the {self.codings.decode('latin-1')} body decodes to more than {MAX_RATIO} "
                f"times its size plus {SLACK} bytes (a compression bomb?)"
            )
        self.decoded += len(out)
        return out

    def end(self) -> bytes:
        """What is left once the body has ended (``ValueError``: the coded body was cut); the
        exchange has taken what was held (whatever still is, is decoded here at once)."""
        data = b"".join(iter(lambda: self.take(SLICE), b""))
        try:
            for i in range(len(self.stages)):
                if i:  # what a later stage still holds (within the bound: nothing, or a bomb)
                    data += self._stage(i, b"")
                if not self.stages[i].eof:
                    raise ValueError(f"a {self.codings.decode('latin-1')} body cut short")
        except zlib.error as exc:
            raise ValueError(f"a corrupt {self.codings.decode('latin-1')} body: {exc}") from exc
        return data
