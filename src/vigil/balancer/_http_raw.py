"""Response heads taken whole: the client's head made from the upstream's head bytes as they came.

Called by :mod:`vigil.balancer._proxy_exchange` once per response (the hot path of ``vigil
balance`` / ``vigil up``), with the head :class:`~vigil.balancer._proxy_upstream.UpstreamConnection`
cut out of its reads. The upstream's parser (httptools, i.e. llhttp) has no per-header callback:
it has judged the head already — CRLF line ends only, no obs-fold, no bare CR or NUL, valid names,
one ``Content-Length``, never both ``Content-Length`` and ``Transfer-Encoding`` (each an error
there, so a head that reaches this module is well formed) — and it alone frames the body.

When one look at each line's first byte and colon position shows nothing but what the fast path
handles, the head is forwarded as it is: one slice, the upstream's plain ``Connection:
keep-alive`` / ``close`` cut out, the proxy's own lines (``X-Request-Id`` unless the upstream
sent one, the client-side framing and ``Connection``) added at its end; a streamed response's
one plain ``Transfer-Encoding: chunked`` line (SSE, token streams) is kept in place too, for an
HTTP/1.1 client of a response with a body. Anything else — another
HTTP version, a status line without the SP before its reason, another ``Transfer-Encoding``, a
``Connection`` naming headers, ``Keep-Alive``, ``Proxy-*``, ``TE``, ``Trailer``, ``Upgrade``,
``Retry-After`` (parsed for the router), a special name in an unusual spelling, or any name that
starts like one of these — takes :func:`~vigil.balancer._http_response.rewrite_response`, the
header-by-header rewrite, over the head's lines. Both give the same head but for the order of
the lines and the spelling of names (the fast path keeps ``Content-Length`` where and as the
upstream wrote it); ``tests/balancer/test_http_raw.py`` checks that on every case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from vigil.balancer._http_headers import Headers
from vigil.balancer._http_response import ResponseMeta, rewrite_response

if TYPE_CHECKING:  # compiled, offsets are machine integers (no tag checks per byte)
    from mypy_extensions import i64

# What the fast path appends after the upstream's lines, by (keep-alive, HTTP/1.0 client).
_END_CLOSE: Final = b"Connection: close\r\n\r\n"
_END_KEEP_10: Final = b"Connection: keep-alive\r\n\r\n"
_END: Final = b"\r\n"
_CHUNKED: Final = b"Transfer-Encoding: chunked\r\n"
_REQUEST_ID: Final = b"X-Request-Id: "
# The one Transfer-Encoding line the fast path forwards in place (a stream's head: SSE, tokens)
_TE_CHUNKED: Final = b"Transfer-Encoding: chunked"
_TE_CHUNKED_LOWER: Final = b"transfer-encoding: chunked"
# The upstream's Connection lines the fast path cuts out (compared as they are: no hashing of a
# fresh line); any other line whose name is 10 characters from a "c" (a Connection with a
# list, another spelling) takes the full rewrite.
_CONNECTION_KEEP: Final = b"Connection: keep-alive"
_PLAIN_CONNECTION_LINES: Final = frozenset(
    name + b": " + value
    for name in (b"Connection", b"connection")
    for value in (b"keep-alive", b"close", b"Keep-Alive", b"Close")
)
# bytes.split as a function: compiled code calls a method of bytes by name otherwise (a look-up)
_SPLIT: Final = bytes.split
# Byte values (lower-cased with | 32) a header name starts with
_C: Final = 99
_K: Final = 107
_P: Final = 112
_R: Final = 114
_T: Final = 116
_U: Final = 117
_X: Final = 120
_COLON: Final = 58
_DASH: Final = 45


def head_end(data: bytes, start: int) -> int:
    """The offset just past the first CR LF CR LF at or after ``start`` in ``data`` (-1: none).

    Called by :class:`~vigil.balancer._proxy_upstream.UpstreamConnection` once per response
    head. A Horspool scan on the empty line's last byte: the byte where a match would end is
    looked at; neither CR nor LF, no match ends there or at the three next places (a move of
    4); a CR, the next place (1); an LF that does not end a match, two places on (the next LF
    of CR LF CR LF). ~60 looks at an nginx head; ``bytes.find`` called as a function cost
    ~1,150 instructions there, its argument parsing included."""
    n: i64 = len(data)
    i: i64 = start + 3
    while i < n:
        c = data[i]
        if c == 10:
            if data[i - 1] == 13 and data[i - 2] == 10 and data[i - 3] == 13:
                return i + 1
            i += 2
        elif c == 13:
            i += 1
        else:
            i += 4
    return -1


def response_head(
    status: int,
    head: bytes,
    *,
    no_body: bool,
    client_keep_alive: bool,
    client_http10: bool,
    request_id: bytes,
) -> tuple[ResponseMeta, bool]:
    """The client response head for the upstream's ``head`` (status line to the empty line,
    CRLFs included, as llhttp accepted it); returns it and whether the client connection stays
    open. The same answer as :func:`rewrite_response` on the head's lines.

    One split into lines, then a look at each line's first byte and the position of its colon
    (compiled: integer tests, no call): a name that is or could be special in another spelling
    sends the head to the full rewrite; the canonical and lower-case spellings of
    ``Content-Length``, ``X-Request-Id`` and a plain ``Connection`` are handled here."""
    lines: list[bytes] = _SPLIT(head, b"\r\n")
    # the status line as it is when it is HTTP/1.1 with the SP before the reason (RFC 9112
    # requires it even with no reason; llhttp accepts "HTTP/1.1 204" without it)
    if not head.startswith(b"HTTP/1.1 ") or len(lines[0]) < 13:
        return _rewrite(status, lines, no_body, client_keep_alive, client_http10, request_id)
    has_length = False
    has_id = False
    upstream_chunked = False  # one plain "Transfer-Encoding: chunked" line
    cut = -1  # where the upstream's Connection line begins (its CRLF before it)
    cut_end = 0
    pos = len(lines[0])  # the offset of the CRLF before the line looked at
    for i in range(1, len(lines) - 2):  # the last two are the empty line's
        line = lines[i]
        size = len(line)
        first = line[0] | 32
        if first == _C:
            if size > 14 and line[14] == _COLON:  # content-length, in some spelling
                if status != 204 and (  # a 204's (RFC 9110 §8.6) is dropped by the rewrite
                    line.startswith(b"Content-Length:") or line.startswith(b"content-length:")
                ):
                    has_length = True
                else:
                    return _rewrite(
                        status, lines, no_body, client_keep_alive, client_http10, request_id
                    )
            elif size > 10 and line[10] == _COLON:  # connection, in some spelling
                if cut < 0 and (line == _CONNECTION_KEEP or line in _PLAIN_CONNECTION_LINES):
                    cut = pos
                    cut_end = pos + 2 + size
                else:
                    return _rewrite(
                        status, lines, no_body, client_keep_alive, client_http10, request_id
                    )
        elif first == _X:
            if size > 12 and line[12] == _COLON:  # x-request-id, in some spelling
                if (
                    line.startswith(b"X-Request-Id:")
                    or line.startswith(b"x-request-id:")
                    or line.startswith(b"X-Request-ID:")
                ):
                    has_id = True
                else:
                    return _rewrite(
                        status, lines, no_body, client_keep_alive, client_http10, request_id
                    )
        elif first == _T and size == 26 and not upstream_chunked and _is_chunked_line(line):
            upstream_chunked = True  # a stream's head (SSE): re-chunked for the client
        elif (
            first == _T  # te, trailer, transfer-encoding
            or first == _K  # keep-alive
            or first == _U  # upgrade
            or (first == _P and size > 6 and line[5] == _DASH)  # proxy-*
            or (first == _R and size > 11 and line[11] == _COLON)  # retry-after
        ):
            return _rewrite(status, lines, no_body, client_keep_alive, client_http10, request_id)
        pos += size + 2
    if upstream_chunked and (has_length or no_body or client_http10):
        # length and chunked (llhttp refuses it), a chunked head with no body to frame, or
        # a client that cannot be sent a transfer coding: the rewrite's rules
        return _rewrite(status, lines, no_body, client_keep_alive, client_http10, request_id)
    keep_alive = client_keep_alive
    chunked_out = upstream_chunked
    close_delimited = False
    parts = [head[:-2]] if cut < 0 else [head[:cut], head[cut_end:-2]]
    if upstream_chunked:
        pass  # its Transfer-Encoding line is the client's, kept in place
    elif not has_length and not no_body:
        close_delimited = True  # no Transfer-Encoding here: the body ends when upstream closes
        if client_http10:
            keep_alive = False
        else:
            chunked_out = True
            parts.append(_CHUNKED)
    if not has_id:
        parts += (_REQUEST_ID, request_id, b"\r\n")
    if not keep_alive:
        parts.append(_END_CLOSE)
    elif client_http10:
        parts.append(_END_KEEP_10)
    else:
        parts.append(_END)
    meta = ResponseMeta(b"".join(parts), chunked_out, close_delimited, None, None, upstream_chunked)
    return meta, keep_alive


def _is_chunked_line(line: bytes) -> bool:
    """Whether a 26-byte line is ``Transfer-Encoding: chunked`` in its canonical or lower-case
    spelling (a streamed response's only framing line, forwarded as it is)."""
    return line in (_TE_CHUNKED, _TE_CHUNKED_LOWER)


def _rewrite(
    status: int,
    lines: list[bytes],
    no_body: bool,
    client_keep_alive: bool,
    client_http10: bool,
    request_id: bytes,
) -> tuple[ResponseMeta, bool]:
    """The full, header-by-header rewrite of the head split into ``lines``."""
    status_line = lines[0].split(b" ", 2)
    reason = status_line[2] if len(status_line) > 2 else b""
    headers: Headers = []
    for i in range(1, len(lines) - 2):
        name, _, value = lines[i].partition(b":")
        headers.append((name, value.strip(b" \t")))
    return rewrite_response(
        status,
        reason,
        headers,
        no_body=no_body,
        client_keep_alive=client_keep_alive,
        client_http10=client_http10,
        request_id=request_id,
    )
