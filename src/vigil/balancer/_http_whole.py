"""Whole plain responses taken from the read, without the response parser.

Called by :class:`~vigil.balancer._proxy_upstream.UpstreamConnection` for a read that begins a
response (the hot path of ``vigil balance`` / ``vigil up``: a small answer comes in one read):
when the read is exactly one response — a plain head and the whole body its ``Content-Length``
announces, nothing before, nothing after — httptools is not called at all. Its run costs four
Python callbacks (message begin, head end, body, message end) on top of llhttp's own work, and
the head must then be looked at again line by line (:mod:`vigil.balancer._http_raw`); here one
pass over the head's bytes judges it and finds what the client's head is made from.

"Plain" is checked byte by byte (a compiled loop, ~16 instructions per byte: cheaper here
than ``bytes`` methods, whose calls and passes cost more on a ~130-byte head; see
docs/benchmarks.md "The whole-response check"), stricter than llhttp (RFC 9112 §4-6, RFC 9110
§5.5-5.6.2):
``HTTP/1.1``, SP, a status 200-599 other than 204 and 304, SP, a reason of visible ASCII, SP
and HTAB, CRLF; at most :data:`MAX_LINES` lines ``token ":" value CRLF`` whose value has only
visible ASCII, SP and HTAB (no obs-text, no CTL, no bare CR or LF); exactly one
``Content-Length`` (spelled so or in lower case) of ``SP* 1*DIGIT``; then the empty line and
exactly that many bytes to the read's end. Or, instead of the length, exactly one line
``Transfer-Encoding: chunked`` (so or in lower case: the one framing line the fast path of
``response_head`` keeps in place), and after the empty line a run of whole chunks as the proxy
would frame them (:func:`~vigil.balancer._http_chunks.whole_chunks`: lower-case hex sizes, no
extension), maybe none, maybe ended by the last chunk with no trailer: a token stream's (SSE)
first read, its head and first events, or a small chunked answer whole (Node.js's ``http``,
aiohttp's and Starlette's streaming responses, Go's ``net/http`` past its buffer all frame so;
nginx, Envoy and Vigil itself re-chunk so). Every header name the fast path of
:func:`~vigil.balancer._http_raw.response_head` would send to the full rewrite sends the read to
the parser here too (by the same look at the name's first letter and length: ``Transfer-*``,
``TE``, ``Trailer``, ``Keep-Alive``, ``Upgrade``, ``Proxy-*``, ``Retry-After``, ``Connection``
other than one plain ``keep-alive`` / ``close``, an ``X-Request-Id`` or ``Content-Length`` in
another spelling...). So every response taken here is one llhttp accepts whole, with the same
status, body and keep-alive, and whose client head the fast path builds the same way; the
parser, which saw nothing, stays between two responses; a chunked body that goes on is then
followed by :class:`~vigil.balancer._http_chunks.ChunkScanner`, and the parser is fed a head of
the same framing (``Transfer-Encoding: chunked``, and ``Connection: close`` when the upstream's
said so) before the first later read that is not whole chunks
(:class:`~vigil.balancer._proxy_upstream.UpstreamConnection`). Anything else — a 1xx, a HEAD's
answer or an HTTP/1.0 client's (the caller's checks), a head or body split over reads, another
chunked framing, a close-delimited body, bytes after the body — goes to httptools as before.
``tests/balancer/test_http_whole.py`` holds the decisions (against llhttp on every case and on
mutated responses), ``test_proxy_whole_responses.py`` and ``test_http_chunks.py`` the wire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from vigil.balancer._http_chunks import whole_chunks
from vigil.balancer._http_plain import _CLASS, _TOKEN
from vigil.balancer._http_raw import (  # byte values a header name starts with (| 32), ends
    _C,
    _END,
    _END_CLOSE,
    _END_KEEP_10,
    _K,
    _P,
    _R,
    _REQUEST_ID,
    _T,
    _U,
    _X,
)

if TYPE_CHECKING:  # compiled, the offsets are machine integers (no tag checks per byte)
    from mypy_extensions import i64

# At most this many header lines are taken here (a longer head goes to the parser).
MAX_LINES: Final = 64
# A Content-Length of more digits goes to the parser (no read is that large).
_MAX_DIGITS: Final = 15
_HTTP11: Final = b"HTTP/1.1 "
# The spellings taken here (as response_head takes them; any other goes to the parser)
_CONTENT_LENGTH: Final = b"Content-Length"
_CONTENT_LENGTH_LOW: Final = b"content-length"
_CONNECTION: Final = b"Connection"
_CONNECTION_LOW: Final = b"connection"
_X_REQUEST_ID: Final = b"X-Request-Id"
_REQUEST_ID_LOW: Final = b"x-request-id"
_REQUEST_ID_UP: Final = b"X-Request-ID"

# The request id line's end and the head's, in one piece (one item fewer to join)
_LINE_END: Final = b"\r\n" + _END
_LINE_END_CLOSE: Final = b"\r\n" + _END_CLOSE
_LINE_END_KEEP_10: Final = b"\r\n" + _END_KEEP_10

_TE_CHUNKED: Final = b"Transfer-Encoding: chunked"
_TE_CHUNKED_LOW: Final = b"transfer-encoding: chunked"

# How the body of a read taken is framed (the last item of whole_response's answer)
LENGTH: Final = 0  # by its Content-Length: the whole body is in the read
CHUNKS: Final = 1  # chunked, whole chunks to the read's end (maybe none): the body goes on
CHUNKS_END: Final = 2  # chunked, whole chunks and the last chunk to the read's end: all of it

# The answer for a read that is not one whole plain response.
NOT_WHOLE: Final = (-1, 0, -1, 0, False, False, 0, LENGTH)


def whole_response(data: bytes) -> tuple[i64, i64, i64, i64, bool, bool, i64, i64]:
    """Whether ``data`` is one whole plain response, or the start of a plain chunked one (see
    the module docstring), as ``(end, status, cut, cut_end, has_id, close, size, framing)``:
    ``end`` the offset just past the head's empty line (-1: not such a read; the rest is then
    meaningless), the status, where the upstream's plain ``Connection`` line is
    (``data[cut:cut_end]``, its CRLF before it; ``cut`` -1: none), whether an ``X-Request-Id``
    line is there, whether that ``Connection`` says close, the body's size (of the chunks'
    data, when chunked) and its framing (:data:`LENGTH`, :data:`CHUNKS`, :data:`CHUNKS_END`)."""
    n: i64 = len(data)
    if n < 19 or not data.startswith(_HTTP11):
        return NOT_WHOLE
    d0: i64 = data[9] - 48
    d1: i64 = data[10] - 48
    d2: i64 = data[11] - 48
    if d0 < 2 or d0 > 5 or d1 < 0 or d1 > 9 or d2 < 0 or d2 > 9 or data[12] != 32:
        return NOT_WHOLE
    status: i64 = d0 * 100 + d1 * 10 + d2
    if status == 204 or status == 304:  # no body whatever the head says
        return NOT_WHOLE
    table = _CLASS
    i: i64 = 13
    c: i64 = 0
    while i < n:  # the reason: VCHAR, SP, HTAB (compared, not looked up: no index check)
        c = data[i]
        if c > 126 or (c < 32 and c != 9):
            break
        i += 1
    if i + 1 >= n or data[i] != 13 or data[i + 1] != 10:
        return NOT_WHOLE
    i += 2
    length: i64 = -1
    cut: i64 = -1
    cut_end: i64 = 0
    has_id = False
    close = False
    chunked = False
    lines: i64 = 0
    while True:
        if i + 1 >= n:
            return NOT_WHOLE
        if data[i] == 13:  # the empty line
            if data[i + 1] != 10:
                return NOT_WHOLE
            i += 2
            break
        start: i64 = i
        while i < n and table[data[i]] & _TOKEN:  # the name
            i += 1
        size: i64 = i - start
        lines += 1
        if size == 0 or i >= n or data[i] != 58 or lines > MAX_LINES:
            return NOT_WHOLE
        i += 1
        value: i64 = i
        while i < n:  # the value: as the reason
            c = data[i]
            if c > 126 or (c < 32 and c != 9):
                break
            i += 1
        if i + 1 >= n or data[i] != 13 or data[i + 1] != 10:  # a CTL, obs-text, a bare CR
            return NOT_WHOLE
        first: i64 = data[start] | 32
        if first == _C:
            if size == 14:  # content-length, in some spelling
                if length >= 0 or not (
                    _at(data, start, _CONTENT_LENGTH) or _at(data, start, _CONTENT_LENGTH_LOW)
                ):
                    return NOT_WHOLE  # a second one (llhttp: an error), or another spelling
                while value < i and data[value] == 32:
                    value += 1
                if value == i or i - value > _MAX_DIGITS:
                    return NOT_WHOLE
                length = 0
                while value < i:
                    digit: i64 = data[value] - 48
                    if digit < 0 or digit > 9:
                        return NOT_WHOLE
                    length = length * 10 + digit
                    value += 1
            elif size == 10:  # connection, in some spelling: one plain line is cut out
                if cut >= 0 or not _plain_connection(data, start, i):
                    return NOT_WHOLE
                cut = start - 2
                cut_end = i
                close = data[start + 12] | 32 == 99  # "close" (else "keep-alive")
        elif first == _X:
            if size == 12:  # x-request-id, in some spelling
                if not (
                    _at(data, start, _X_REQUEST_ID)
                    or _at(data, start, _REQUEST_ID_LOW)
                    or _at(data, start, _REQUEST_ID_UP)
                ):
                    return NOT_WHOLE
                has_id = True
        elif (
            first == _T
            and i - start == 26
            and not chunked
            and (_at(data, start, _TE_CHUNKED) or _at(data, start, _TE_CHUNKED_LOW))
        ):
            chunked = True  # a stream's head (SSE, tokens): its one plain framing line
        elif (
            first == _T  # te, trailer, transfer-encoding
            or first == _K  # keep-alive
            or first == _U  # upgrade
            or (first == _P and size > 5 and data[start + 5] == 45)  # proxy-*
            or (first == _R and size == 11)  # retry-after
        ):
            return NOT_WHOLE
        i += 2
    if chunked:
        if length >= 0:  # both framings (llhttp: an error)
            return NOT_WHOLE
        size, last = whole_chunks(data, i)
        if size < 0:
            return NOT_WHOLE
        return i, status, cut, cut_end, has_id, close, size, CHUNKS_END if last else CHUNKS
    if length < 0 or n - i != length:
        return NOT_WHOLE
    return i, status, cut, cut_end, has_id, close, length, LENGTH


def whole_answer(
    data: bytes,
    end: i64,
    cut: i64,
    cut_end: i64,
    has_id: bool,
    keep_alive: bool,
    http10: bool,
    request_id: bytes,
) -> bytes:
    """What the client gets for the whole response ``data`` (:func:`whole_response`'s
    ``end``, ``cut``, ``cut_end`` and ``has_id``): its head as the fast path of
    :func:`~vigil.balancer._http_raw.response_head` makes it — the upstream's plain
    ``Connection`` line cut out, ``X-Request-Id`` unless the upstream sent one, the client's
    ``Connection`` (``keep_alive`` and ``http10``: the client connection's) — and the body, in
    one piece (one write)."""
    head_end = end - 2  # the proxy's lines go before the empty line
    # One join of a tuple per case (compiled, the tuple is built in place): a list appended
    # to piece by piece grew its item array twice per answer (two reallocs).
    if not has_id:
        line_end = _LINE_END if keep_alive and not http10 else _line_end(keep_alive)
        if cut < 0:
            return b"".join((data[:head_end], _REQUEST_ID, request_id, line_end, data[end:]))
        if cut_end < head_end:  # nginx writes its Connection line last: nothing after it
            return b"".join(
                (
                    data[:cut],
                    data[cut_end:head_end],
                    _REQUEST_ID,
                    request_id,
                    line_end,
                    data[end:],
                )
            )
        return b"".join((data[:cut], _REQUEST_ID, request_id, line_end, data[end:]))
    ending = _END if keep_alive and not http10 else _end(keep_alive)
    if cut < 0:
        return b"".join((data[:head_end], ending, data[end:]))
    if cut_end < head_end:
        return b"".join((data[:cut], data[cut_end:head_end], ending, data[end:]))
    return b"".join((data[:cut], ending, data[end:]))


def _line_end(keep_alive: bool) -> bytes:
    """The request id line's end and the head's for a client that is not kept alive on
    HTTP/1.1: ``close``, else an HTTP/1.0 client's ``keep-alive``."""
    return _LINE_END_KEEP_10 if keep_alive else _LINE_END_CLOSE


def _end(keep_alive: bool) -> bytes:
    """The head's end (the client's Connection line) as :func:`_line_end`, without the id's."""
    return _END_KEEP_10 if keep_alive else _END_CLOSE


def _at(data: bytes, start: i64, word: bytes) -> bool:
    """Whether ``word`` is in ``data`` at ``start`` (the caller knows it fits). Compiled, a few
    integer compares; a slice and a set look-up cost ~500 instructions."""
    size: i64 = len(word)
    j: i64 = 0
    while j < size:
        if data[start + j] != word[j]:
            return False
        j += 1
    return True


def _plain_connection(data: bytes, start: i64, end: i64) -> bool:
    """Whether ``data[start:end]`` is ``Connection: keep-alive`` or ``close``, the name so or in
    lower case, the value so or capitalised (``Keep-Alive``, ``Close``): the lines
    :func:`~vigil.balancer._http_raw.response_head` cuts out."""
    if not (_at(data, start, _CONNECTION) or _at(data, start, _CONNECTION_LOW)):
        return False
    if data[start + 11] != 32:  # ": " (the colon is known)
        return False
    first = data[start + 12]
    if end - start == 22:  # keep-alive or Keep-Alive
        if first == 107:
            return _at(data, start + 13, b"eep-alive")
        return first == 75 and _at(data, start + 13, b"eep-Alive")
    if end - start == 17:  # close or Close
        return (first == 99 or first == 67) and _at(data, start + 13, b"lose")
    return False
