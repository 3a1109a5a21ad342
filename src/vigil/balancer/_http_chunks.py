"""Chunked framing of an upstream's body, followed byte by byte beside the response parser.

Called by :class:`~vigil.balancer._proxy_upstream.UpstreamConnection` for the body of a response
whose only transfer coding is ``chunked`` and which the client gets chunked too (an HTTP/1.1
client, not HEAD: the exchange says so in its
:class:`~vigil.balancer._http_response.ResponseMeta`). A token stream (SSE) comes as one chunk,
or a few, per read; re-chunked, each goes through llhttp's ``on_body`` (a Python callback) and
comes out as the very bytes that went in. :meth:`ChunkScanner.whole` tells such a read: it
starts where a chunk starts and is nothing but whole chunks, each with a size line in lower-case
hex without a leading zero or an extension (what the proxy writes itself:
:func:`~vigil.balancer._http_answers.chunk`), its data, CRLF; the last of them may be the last
chunk, ``0`` CRLF CRLF without extension or trailer, as the proxy ends a body. The caller then
writes the same bytes object to the client, and the parser is not called: it stays where a
chunk starts, where it was (a read ended by the last chunk goes to the parser, which must see
the body end, unless it never saw this response's head:
:mod:`vigil.balancer._http_whole`'s chunked heads, whose first read :func:`whole_chunks` judges
from the head's end).

Every other read goes to the parser as before, and :meth:`ChunkScanner.feed` follows it
(RFC 9112 §7.1: size in hex of at most :data:`MAX_SIZE_DIGITS` digits, extensions, CRLF, data,
CRLF, the last chunk ``0``, trailer lines, the final CRLF; resumable, the reads split
anywhere), so that the next read is known to start at a chunk or not. The parser stays the
judge of the framing: anything the scanner does not follow (a bare LF, junk after the data, a
size line over :data:`MAX_SIZE_LINE` bytes, a size past the bound) puts it in ``BROKEN`` for
the rest of the response, which only means no later read of it takes the short way; llhttp
refuses what is malformed, as it did (``tests/balancer/test_http_chunks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # compiled, the offsets and sizes are machine integers
    from mypy_extensions import i64

# States of the framing (the position of the next byte)
START: Final = 0  # a chunk's size line begins (the only state whole() starts from)
SIZE: Final = 1  # in the size's hex digits
EXT: Final = 2  # in the size line's extensions, up to its CR
SIZE_LF: Final = 3  # the LF of the size line
DATA: Final = 4  # in a chunk's data (``left`` bytes to go)
DATA_CR: Final = 5  # the CR after a chunk's data
DATA_LF: Final = 6  # the LF after it
TRAILER: Final = 7  # a trailer line begins (or the final CRLF)
TRAILER_LINE: Final = 8  # in a trailer line, up to its CR
TRAILER_LF: Final = 9  # the LF of a trailer line
END_LF: Final = 10  # the LF of the final CRLF
DONE: Final = 11  # the body ended
BROKEN: Final = 12  # not followed any further in this response (the parser judges)

# A size of more hex digits (2**60 bytes and up) is not followed: no body is that large,
# and the bound keeps the arithmetic in 64 bits. llhttp takes up to 16 digits.
MAX_SIZE_DIGITS: Final = 15
# A size line longer than this, extensions included, is not followed (llhttp's own judgement
# stands; nginx allows 4 KiB for the whole line too).
MAX_SIZE_LINE: Final = 4096


def _hex(c: i64) -> i64:
    """The value of the hex digit ``c`` (either case), or -1."""
    if 48 <= c <= 57:
        return c - 48
    c |= 32
    if 97 <= c <= 102:
        return c - 87
    return -1


# The answer of whole_chunks for bytes that are not a run of whole chunks.
NOT_CHUNKS: Final = (-1, False)


def whole_chunks(data: bytes, start: i64) -> tuple[i64, bool]:
    """Whether ``data[start:]`` is a run of whole chunks as the proxy writes them (see the
    module docstring), possibly empty, possibly ended by the last chunk ``0`` CRLF CRLF with
    no extension and no trailer, and nothing after it: ``(size, last)``, the data's size and
    whether the last chunk ends it; ``(-1, False)`` otherwise (the parser's way)."""
    n: i64 = len(data)
    i: i64 = start
    total: i64 = 0
    while i < n:
        c: i64 = data[i]
        if 49 <= c <= 57:  # the first digit: no leading zero
            size: i64 = c - 48
        elif 97 <= c <= 102:
            size = c - 87
        elif c == 48:  # the last chunk: exactly its five bytes, and the read ends there
            if n - i == 5 and data[i + 1] == 13 and data[i + 2] == 10:
                return (total, True) if data[i + 3] == 13 and data[i + 4] == 10 else NOT_CHUNKS
            return NOT_CHUNKS
        else:
            return NOT_CHUNKS
        i += 1
        while True:
            if i >= n:
                return NOT_CHUNKS
            c = data[i]
            if 48 <= c <= 57:
                size = size * 16 + c - 48
            elif 97 <= c <= 102:
                size = size * 16 + c - 87
            elif c == 13:
                break
            else:  # an extension, upper case, anything else: the parser's way
                return NOT_CHUNKS
            if size > n:  # cannot be whole in this read (and cannot overflow)
                return NOT_CHUNKS
            i += 1
        end: i64 = i + 2 + size  # past the CR LF and the data
        if end + 2 > n or data[i + 1] != 10 or data[end] != 13 or data[end + 1] != 10:
            return NOT_CHUNKS
        total += size
        i = end + 2
    return total, False


class ChunkScanner:
    """Where an upstream's chunked body stands; one per upstream connection, :meth:`reset` at
    each response whose body it follows."""

    def __init__(self) -> None:
        self.state: i64 = BROKEN  # nothing followed until reset()
        self.left: i64 = 0  # the current chunk's bytes to go (DATA), or its size so far (SIZE)
        self.line: i64 = 0  # the current size line's length so far (SIZE, EXT)
        self.digits: i64 = 0  # its hex digits so far

    def reset(self) -> None:
        """A body begins: its first chunk's size line comes next."""
        self.state = START
        self.left = 0

    def whole(self, data: bytes) -> tuple[i64, bool]:
        """:func:`whole_chunks` of the read ``data`` when the body is at a chunk's start;
        ``(-1, False)`` otherwise. The state is not changed: a run of whole chunks ends where
        the next begins (and after the last chunk the caller ends the response)."""
        if self.state != START:
            return NOT_CHUNKS
        return whole_chunks(data, 0)

    def feed(self, data: bytes, start: i64) -> None:
        """Follow ``data[start:]``, the next bytes of the body (as the parser is fed them)."""
        state: i64 = self.state
        if state == BROKEN:
            return
        left: i64 = self.left
        line: i64 = self.line
        digits: i64 = self.digits
        n: i64 = len(data)
        i: i64 = start
        while i < n:
            if state == DATA:
                if n - i < left:
                    left -= n - i
                    break
                i += left
                left = 0
                state = DATA_CR
                continue
            c: i64 = data[i]
            i += 1
            if state <= SIZE:  # START or SIZE
                value = _hex(c)
                if value >= 0:
                    if state == START:
                        state = SIZE
                        left = line = digits = 0
                    digits += 1
                    line += 1
                    if digits > MAX_SIZE_DIGITS:
                        state = BROKEN
                        break
                    left = left * 16 + value
                elif state == SIZE and c == 13:
                    state = SIZE_LF
                elif state == SIZE and (c == 59 or c == 32 or c == 9):  # ';', or BWS before it
                    state = EXT
                    line += 1
                else:
                    state = BROKEN
                    break
            elif state == EXT:
                line += 1
                if c == 13:
                    state = SIZE_LF
                elif c == 10 or line > MAX_SIZE_LINE:
                    state = BROKEN
                    break
            elif state == SIZE_LF:
                if c != 10:
                    state = BROKEN
                    break
                state = DATA if left > 0 else TRAILER
            elif state == DATA_CR:
                if c != 13:
                    state = BROKEN
                    break
                state = DATA_LF
            elif state == DATA_LF:
                if c != 10:
                    state = BROKEN
                    break
                state = START
            elif state == TRAILER:
                state = END_LF if c == 13 else TRAILER_LINE
                if c == 10:
                    state = BROKEN
                    break
            elif state == TRAILER_LINE:
                if c == 13:
                    state = TRAILER_LF
                elif c == 10:
                    state = BROKEN
                    break
            elif state == TRAILER_LF:
                if c != 10:
                    state = BROKEN
                    break
                state = TRAILER
            elif state == END_LF:
                if c != 10:
                    state = BROKEN
                    break
                state = DONE
            else:  # DONE: bytes after the body (the parser's to judge)
                state = BROKEN
                break
            if line > MAX_SIZE_LINE:
                state = BROKEN
                break
        self.state = state
        self.left = left
        self.line = line
        self.digits = digits
