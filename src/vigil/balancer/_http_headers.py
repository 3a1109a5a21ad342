"""Header rewriting for the data plane: the request head sent upstream, the response head sent back.

Called by :mod:`vigil.balancer._proxy_exchange` once per request and once per response (the hot
path of ``vigil balance`` / ``vigil up``), so everything works on the raw ``bytes`` that httptools
hands over and builds each head with one ``b"".join``.

Rules (RFC 9110 §7.6.1): hop-by-hop headers (``Connection`` and every header it names,
``Keep-Alive``, ``Proxy-*``, ``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``) are not
forwarded; the message framing is re-decided on each leg (``Content-Length`` passed through, a
chunked body re-chunked, any other transfer coding of a response kept in its
``Transfer-Encoding``). ``Host`` is passed through, even when a request's ``Connection`` names
it. The proxy owns the headers that say who the
client is: from a peer that is not a trusted proxy (``ProxySettings.trusted_proxies``),
``X-Forwarded-For`` is the peer's address alone, ``X-Forwarded-Proto`` the proxy's own, and
``Forwarded``, ``X-Real-IP``, ``X-Forwarded-Host``/``-Port`` are dropped (a client could claim any
address); from a trusted one they pass, ``X-Forwarded-For`` with the peer appended.
``X-Request-Id`` keeps a sane client value or gets a fresh one. ``Expect: 100-continue`` is
answered by the proxy itself and not forwarded.
"""

from __future__ import annotations

import os
import re
from typing import Final

from vigil.balancer._http_codings import BodyDecoder

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Headers that say who the client is, besides X-Forwarded-For/-Proto: passed on from a trusted
# proxy only (a client could claim any address). Their codes (f/9, x/9, x/16) are special: a
# request with ``X-Api-Key`` (x/9 too) takes the exact path by name.
_SPOOFABLE: Final = frozenset(
    {b"forwarded", b"x-real-ip", b"x-forwarded-host", b"x-forwarded-port"}
)
# Request headers the proxy rewrites itself (on top of the hop-by-hop ones).
_REQUEST_SPECIAL: Final = (
    HOP_BY_HOP
    | _SPOOFABLE
    | {
        b"content-length",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-request-id",
        b"expect",
    }
)
# What rewrite_response does with a response header, by lower-case name (one dict lookup each).
_FORWARD: Final = 0
_CONTENT_LENGTH: Final = 1
_TRANSFER_ENCODING: Final = 2
_RETRY_AFTER: Final = 3
_CONNECTION: Final = 4
_REQUEST_ID: Final = 5
_DROP: Final = 6
_RESPONSE_KIND: Final = {name: _DROP for name in HOP_BY_HOP} | {
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"retry-after": _RETRY_AFTER,
    b"connection": _CONNECTION,
    b"x-request-id": _REQUEST_ID,
}
# A name whose (first letter, length) is not one of the special names' is forwarded without a
# dict look-up (hashing each fresh name httptools hands over costs more than the rest of its
# handling): ``Date``, ``Server``, ``Content-Type``... Names that share a code with a special
# one (``Connection`` and ``Content-Length``'s c/10 and c/14) take the exact path by name.
# The code is ``(first byte & 31) << 6 | length``, ``A`` and ``a`` alike; a byte of this table
# is 1 where a special name has that code (a bytes index: no int object, no hashing).
_CODE_MAX_LEN: Final = 63
# A request head forwarded as the client wrote it has at most this many header lines (see
# _raw_head: the size check is exact enough only for so many).
_RAW_MAX_HEADERS: Final = 16
_SPECIAL_CODES: Final = bytes(
    int(any(((n[0] & 31) << 6 | len(n)) == code for n in _RESPONSE_KIND)) for code in range(2048)
)
# The same for request header names: a name whose code no name of _REQUEST_SPECIAL has (Host,
# User-Agent, Accept...) is forwarded without lower-casing or hashing it (when no affinity
# header is configured: that name is looked for by its lower-case spelling).
_REQUEST_CODES: Final = bytes(
    int(any(((n[0] & 31) << 6 | len(n)) == code for n in _REQUEST_SPECIAL)) for code in range(2048)
)
# Connection values naming no header
_PLAIN_CONNECTION: Final = frozenset({b"close", b"keep-alive"})
# Connection tokens that drop nothing from a request: the plain values, and Host, which the
# upstream needs (RFC 9112 §3.2: 400 without it; RFC 9110 §7.6.1 lets a proxy drop what
# Connection names, and a client naming Host would break its own request). The framing headers
# need no entry: the proxy writes them itself after the named ones are dropped.
_KEEP_NAMED: Final = _PLAIN_CONNECTION | {b"host"}
# The kind of each response header name as the upstream spelled it (case and all), so that the
# handful of names an upstream sends cost one dict lookup each instead of a lower() and a lookup.
_KIND_BY_NAME: Final[dict[bytes, int]] = {}
_KIND_BY_NAME_MAX: Final = 256
# Request header names in lower case by their spelling in the request (clients send the same
# handful of names): one dict look-up instead of a lower() call and a new bytes per header.
_LOWER: Final[dict[bytes, bytes]] = {}
_LOWER_MAX: Final = 256
# Client status lines by status, with the reason they were made for: upstreams answer with a
# handful of them.
_STATUS_LINES: Final[dict[int, tuple[bytes, bytes]]] = {}
_STATUS_LINES_MAX: Final = 256
# A client's request id is kept when it is short and made of token-like characters: it ends up
# in logs and in upstream headers, so anything else is replaced rather than trusted.
_SANE_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class BadRequest(Exception):
    """The client's request cannot be forwarded; ``status`` is the answer (400, 431...)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestIds:
    """Request ids unique across processes: a random per-process prefix and a counter.

    Cheaper than ``uuid4()`` and still unguessable enough for correlation, which is all a
    request id is for. The counter's last two hex digits come from a table and the rest is
    formatted once per 256 ids, so an id costs one concatenation, not a ``%`` format.
    """

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex().encode()
        self._count = 0  # a plain int: compiled, a C add instead of a call to an iterator
        self._high = b""  # the prefix and the counter's hex digits but the last two

    def next(self) -> bytes:
        self._count = count = self._count + 1
        low = count & 0xFF
        if low == 0 or not self._high:
            self._high = b"%s%08x" % (self._prefix, count >> 8)
        return self._high + _HEX2[low]


# Two lower-case hex digits for every byte value: the tail of a request id.
_HEX2: Final = tuple(b"%02x" % n for n in range(256))


class RequestMeta:
    """What the proxy learned from a request head while rewriting it."""

    __slots__ = (
        "chunked",
        "connection",
        "content_length",
        "expect_continue",
        "head",
        "key",
        "request_id",
    )

    def __init__(
        self,
        head: bytes,
        request_id: bytes,
        chunked: bool,
        content_length: int,
        expect_continue: bool,
        key: bytes | None,
        connection: bool = False,
    ) -> None:
        self.head = head
        self.request_id = request_id
        self.chunked = chunked
        self.content_length = content_length  # -1: none given
        self.expect_continue = expect_continue
        self.key = key
        self.connection = connection  # the request had a Connection header


def _connection_tokens(value: bytes) -> set[bytes]:
    return {token.strip().lower() for token in value.split(b",")}


def rewrite_request(
    method: bytes,
    url: bytes,
    headers: Headers,
    client_ip: bytes,
    proto: bytes,
    ids: RequestIds,
    affinity: bytes | None,
    raw: bytes = b"",
    start: int = -1,
    trusted: bool = False,
) -> RequestMeta:
    """Build the upstream request head (HTTP/1.1, keep-alive) from the client's request.

    ``raw``, ``start``: the read the head came in and where it begins there, when the client
    connection knows (-1: it does not). Then a head whose names are all plain is forwarded as
    the client wrote it (see :func:`_raw_head`), not rebuilt from its pieces. ``trusted``: the
    client is a trusted proxy (its forwarding headers are passed on, see the module docstring)."""
    if start >= 0 and affinity is None and len(headers) <= _RAW_MAX_HEADERS:
        forward = _raw_head(raw, start, method, url, headers)
        if forward is not None:  # no special name: nothing to learn from the headers
            return forward_as_written(forward, client_ip, proto, ids)
    parts = [method, b" ", url, b" HTTP/1.1\r\n"]
    xff: bytes | None = None
    request_id: bytes | None = None
    chunked = False
    content_length = -1
    expect = False
    key: bytes | None = None
    named: set[bytes] | None = None
    connection = False
    forwarded_proto: bytes | None = None
    plain = affinity is None  # names with no special code need no lower-case spelling
    for name, value in headers:
        size = len(name)
        if plain and 0 < size <= _CODE_MAX_LEN and not _REQUEST_CODES[(name[0] & 31) << 6 | size]:
            parts.append(name)
            parts.append(b": ")
            parts.append(value)
            parts.append(b"\r\n")
            continue
        lname = _LOWER.get(name)
        if lname is None:
            lname = name.lower()
            if len(_LOWER) < _LOWER_MAX:
                _LOWER[name] = lname
        if lname == affinity:
            key = value
        if lname not in _REQUEST_SPECIAL:
            parts.append(name)
            parts.append(b": ")
            parts.append(value)
            parts.append(b"\r\n")
        elif lname == b"content-length":
            if content_length != -1 or not value.strip().isdigit():
                raise BadRequest(400, "bad or repeated Content-Length")
            content_length = int(value)
        elif lname == b"transfer-encoding":
            if value.strip().lower() != b"chunked" or chunked:
                raise BadRequest(400, "unsupported Transfer-Encoding")
            chunked = True
        elif lname == b"x-forwarded-for":
            if trusted:  # else the client's claim is dropped: the peer alone is written
                xff = value if xff is None else xff + b", " + value
        elif lname == b"x-forwarded-proto":
            if trusted and forwarded_proto is None:
                forwarded_proto = value
        elif lname in _SPOOFABLE:
            if trusted:
                parts += (name, b": ", value, b"\r\n")
        elif lname == b"x-request-id":
            if _SANE_REQUEST_ID.fullmatch(value):
                request_id = value
        elif lname == b"expect":
            expect = value.strip().lower() == b"100-continue"
        elif lname == b"connection":
            connection = True
            if value.lower() not in _PLAIN_CONNECTION:
                tokens = _connection_tokens(value) - _KEEP_NAMED
                if tokens:
                    named = tokens if named is None else named | tokens
        elif lname == b"proxy-connection":
            connection = True  # llhttp reads it as Connection
    if chunked and content_length != -1:
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    if named:
        parts = _drop_named(parts, named, 4)
    if request_id is None:
        request_id = ids.next()
    if content_length != -1:
        parts += (b"Content-Length: %d\r\n" % content_length,)
    elif chunked:
        parts.append(b"Transfer-Encoding: chunked\r\n")
    parts += (
        b"X-Forwarded-For: ",
        client_ip if xff is None else xff + b", " + client_ip,
        b"\r\nX-Forwarded-Proto: ",
        proto if forwarded_proto is None else forwarded_proto,
        b"\r\nX-Request-Id: ",
        request_id,
        b"\r\n\r\n",
    )
    return RequestMeta(
        b"".join(parts), request_id, chunked, content_length, expect, key, connection
    )


def forward_as_written(
    forward: bytes, client_ip: bytes, proto: bytes, ids: RequestIds
) -> RequestMeta:
    """The upstream head for a client head with no special name, ``forward`` (its request line
    and header lines as the client wrote them, through the last line's CRLF): the proxy's lines
    added, a fresh request id. Called by :func:`rewrite_request`."""
    return forward_with(forward, proxy_lines(client_ip, proto), ids)


def proxy_lines(client_ip: bytes, proto: bytes) -> bytes:
    """The lines the proxy adds to every request head of a client, up to the request id's value
    (made once per client connection by :mod:`vigil.balancer._proxy_client`)."""
    return (
        b"X-Forwarded-For: "
        + client_ip
        + b"\r\nX-Forwarded-Proto: "
        + proto
        + b"\r\nX-Request-Id: "
    )


def forward_with(forward: bytes, lines: bytes, ids: RequestIds) -> RequestMeta:
    """:func:`forward_as_written` with the client's :func:`proxy_lines` made already: for a
    head the parser never saw (:mod:`vigil.balancer._http_plain`), one join of four pieces."""
    fresh_id = ids.next()
    head = b"".join((forward, lines, fresh_id, b"\r\n\r\n"))
    return RequestMeta(head, fresh_id, False, -1, False, None, False)


def _raw_head(raw: bytes, start: int, method: bytes, url: bytes, headers: Headers) -> bytes | None:
    """The client's head as it came, from ``raw[start]`` to its last header line's CRLF, when
    it is exactly ``method SP url SP HTTP/1.1 CRLF`` and header lines none of whose names may
    be special (the code table); else None (the head is rebuilt from its pieces).

    llhttp has accepted the head (CRLF line ends, no obs-fold, one SP or more before the URL)
    and called no Python per byte, so no offset is known: the end is where the sizes say. A
    line written ``name:value`` is a byte shorter than counted, one with more spaces is longer,
    so the sizes can point past the head, into what the client sent next in the same read,
    where CRLF CRLF may stand too (``Z`` CRLF CRLF after five ``name:value`` lines): the head
    is taken only when no CRLF CRLF ends in the ``_RAW_MAX_HEADERS`` bytes before the one the
    sizes point at (llhttp accepts no bare LF: a head ends at its first CRLF CRLF, and the
    sizes are past it by at most a byte per line). Forwarding past it would smuggle the
    client's next bytes onto the upstream connection as a request of their own."""
    size = 0  # the header lines' size if each is written "name: value CRLF"
    for name, value in headers:
        nsize = len(name)
        if not 0 < nsize <= _CODE_MAX_LEN or _REQUEST_CODES[(name[0] & 31) << 6 | nsize]:
            return None
        size += nsize + len(value) + 4
    n = len(raw)
    while start < n and (raw[start] == 13 or raw[start] == 10):  # llhttp skips empty lines
        start += 1
    version = start + len(method) + len(url) + 1  # the SP before "HTTP/1.1 CRLF"
    end = version + 11 + size + 2
    if (
        end > n
        or raw[end - 1] != 10
        or raw[end - 2] != 13
        or raw[end - 3] != 10
        or raw[end - 4] != 13
        or raw[end - 5] == 10
        or raw[end - 5] == 13
        or raw[start + len(method)] != 32
        # the SP and the CR there: with more SPs before the URL the line's only CR would be
        # further on; llhttp has checked "HTTP/d.d" between them: it is 1.1
        or raw[version] != 32
        or raw[version + 9] != 13
        or raw[version + 6] != 49
        or raw[version + 8] != 49
    ):
        return None
    # a CRLF CRLF ending a byte or more before the one found is the head's real end: the sizes
    # point past it (indexing, not bytes.find: a method call costs ~1,600 instructions here)
    i = end - 2
    low = max(start + 3, end - 1 - _RAW_MAX_HEADERS)
    while i >= low:
        if raw[i] == 10 and raw[i - 1] == 13 and raw[i - 2] == 10 and raw[i - 3] == 13:
            return None
        i -= 1
    return raw[start : end - 2]


def _drop_named(parts: list[bytes], named: set[bytes], start: int) -> list[bytes]:
    """Remove the headers a ``Connection`` header lists (rare: a second pass only then).

    ``parts[start:]`` holds ``name, b": ", value, b"\\r\\n"`` quadruples.
    """
    kept = parts[:start]
    for i in range(start, len(parts), 4):
        if parts[i].lower() not in named:
            kept += parts[i : i + 4]
    return kept


class ResponseMeta:
    """The client-facing response head and how its body must be framed."""

    __slots__ = ("chunked_out", "chunks_as_is", "close_delimited", "decoder", "head", "retry_after")

    def __init__(
        self,
        head: bytes,
        chunked_out: bool,
        close_delimited: bool,
        retry_after: float | None,
        decoder: BodyDecoder | None = None,
        chunks_as_is: bool = False,
    ) -> None:
        self.head = head
        self.chunked_out = chunked_out  # re-chunk the body to the client
        # the upstream's only transfer coding is chunked and the client gets it chunked: a
        # read of whole chunks may go as it came (vigil.balancer._http_chunks)
        self.chunks_as_is = chunks_as_is
        self.close_delimited = close_delimited  # the upstream body ends when it closes
        self.retry_after = retry_after
        # transfer codings to undo for an HTTP/1.0 client (rare: see _http_codings)
        self.decoder = decoder


def rewrite_response(
    status: int,
    reason: bytes,
    headers: Headers,
    *,
    no_body: bool,
    client_keep_alive: bool,
    client_http10: bool,
    request_id: bytes,
) -> tuple[ResponseMeta, bool]:
    """Build the client response head; returns it and whether the client connection stays open."""
    known = _STATUS_LINES.get(status)  # an int key: no hashing of the fresh reason bytes
    if known is not None and known[0] == reason:
        line = known[1]
    else:
        line = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        if len(_STATUS_LINES) < _STATUS_LINES_MAX:
            _STATUS_LINES[status] = (reason, line)  # the last reason seen for each status
    parts = [line]
    upstream_chunked = False
    content_length: bytes | None = None
    retry_after: bytes | None = None
    named: set[bytes] | None = None
    codings: bytes | None = None  # the Transfer-Encoding values, in order
    has_id = False
    for name, value in headers:
        size = len(name)
        if 0 < size <= _CODE_MAX_LEN and not _SPECIAL_CODES[(name[0] & 31) << 6 | size]:
            kind = _FORWARD  # cannot be one of the special names
        else:
            kind = _KIND_BY_NAME.get(name, -1)
        if kind < 0:
            kind = _RESPONSE_KIND.get(name.lower(), _FORWARD)
            if len(_KIND_BY_NAME) < _KIND_BY_NAME_MAX:
                _KIND_BY_NAME[name] = kind
        if kind == _FORWARD:
            parts.append(name)
            parts.append(b": ")
            parts.append(value)
            parts.append(b"\r\n")
        elif kind == _CONTENT_LENGTH:
            content_length = value
        elif kind == _REQUEST_ID:
            has_id = True
            parts += (name, b": ", value, b"\r\n")
        elif kind == _CONNECTION:
            if value.lower() not in _PLAIN_CONNECTION:
                tokens = _connection_tokens(value) - _PLAIN_CONNECTION
                if tokens:
                    named = tokens if named is None else named | tokens
        elif kind == _TRANSFER_ENCODING:
            low = value.strip().lower()
            upstream_chunked = low.endswith(b"chunked")
            codings = low if codings is None else codings + b", " + low
        elif kind == _RETRY_AFTER:
            retry_after = value
            parts += (name, b": ", value, b"\r\n")
        # else: another hop-by-hop header, dropped
    if named:
        parts = _drop_named(parts, named, 1)
    keep_alive = client_keep_alive
    chunked_out = False
    close_delimited = False
    decoder: BodyDecoder | None = None
    if content_length is not None and not upstream_chunked:
        if status != 204:  # RFC 9110 §8.6: never in a 204 (its body is empty whatever it says)
            parts += (b"Content-Length: ", content_length, b"\r\n")
    elif not no_body:
        close_delimited = not upstream_chunked
        if client_http10:
            keep_alive = False  # the body ends when we close
            # and it can carry no Transfer-Encoding (RFC 9112 §6.1): its codings are undone
            applied = _codings_applied(codings) if codings is not None else []
            if applied:
                decoder = BodyDecoder(applied)  # ValueError: one that cannot be (a 502)
        else:
            chunked_out = True
            if codings is None or codings == b"chunked":
                parts.append(b"Transfer-Encoding: chunked\r\n")
            else:  # gzip, chunked...: the other codings stay on the body
                parts += (b"Transfer-Encoding: ", _applied_codings(codings), b"chunked\r\n")
    if not has_id:
        parts += (b"X-Request-Id: ", request_id, b"\r\n")
    if not keep_alive:
        parts.append(b"Connection: close\r\n\r\n")
    elif client_http10:
        parts.append(b"Connection: keep-alive\r\n\r\n")
    else:
        parts.append(b"\r\n")
    ra = parse_retry_after(retry_after) if retry_after is not None else None
    as_is = chunked_out and codings == b"chunked"
    meta = ResponseMeta(b"".join(parts), chunked_out, close_delimited, ra, decoder, as_is)
    return meta, keep_alive


def _codings_applied(codings: bytes) -> list[bytes]:
    """The transfer codings the upstream applied to the body besides the chunked framing the
    proxy undoes (``Transfer-Encoding``'s values, lower case, in order).

    ``ValueError`` (a 502) for chunked anywhere but last: RFC 9112 §6.1 allows it once, and
    last unless the body is close-delimited; llhttp leaves such a body framed (it undoes a final
    chunked only), so the proxy would chunk it a second time (``chunked, gzip, chunked``)."""
    tokens = [token.strip() for token in codings.split(b",")]
    if tokens[-1] == b"chunked":
        tokens.pop()
    if b"chunked" in tokens:
        raise ValueError(
            f"Transfer-Encoding {codings.decode('latin-1')!r} applies chunked before another "
            "coding (RFC 9112 §6.1: once, and last)"
        )
    return [token for token in tokens if token and token != b"identity"]


def _applied_codings(codings: bytes) -> bytes:
    """The transfer codings (``gzip, ``...) the upstream applied to the body besides the chunked
    framing the proxy undoes and redoes: they stay on the body, so the client must be told."""
    return b"".join(token + b", " for token in _codings_applied(codings))


def parse_retry_after(value: bytes) -> float | None:
    """``Retry-After`` as seconds: delay-seconds only (an HTTP-date is ignored: clocks differ)."""
    value = value.strip()
    return float(value) if value.isdigit() else None


_REASONS: Final = {
    400: b"Bad Request",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
    505: b"HTTP Version Not Supported",
}


# The methods the proxy forwards (CONNECT and upgrades are answered 400, TRACE 405 unless
# ProxySettings.allow_trace), as the Allow line of its 405.
ALLOW: Final = b"Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n"


def error_response(
    status: int,
    message: str,
    *,
    request_id: bytes | None,
    close: bool,
    retry_after: int = -1,
    no_body: bool = False,
    http10: bool = False,
) -> bytes:
    """A small plain-text response generated by the proxy itself; ``no_body`` (the answer to a
    HEAD request): its length is given, its body not sent (the client would read it as the
    start of its next answer); ``http10``: kept alive, it says so (an HTTP/1.0 client otherwise
    waits for the close, as :func:`rewrite_response`'s answers say too)."""
    body = message.encode() + b"\n"
    parts = [
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
        % (status, _REASONS.get(status, b"Error"), len(body))
    ]
    if retry_after >= 0:
        parts.append(b"Retry-After: %d\r\n" % retry_after)
    if status == 405:  # RFC 9110 §15.5.6: a 405 says what is allowed (only TRACE gets one)
        parts.append(ALLOW)
    if request_id is not None:
        parts.append(b"X-Request-Id: %s\r\n" % request_id)
    if close:
        parts.append(b"Connection: close\r\n\r\n")
    else:
        parts.append(b"Connection: keep-alive\r\n\r\n" if http10 else b"\r\n")
    if not no_body:
        parts.append(body)
    return b"".join(parts)


# The size line of a chunk for every size below this, made once: the streaming path frames each
# piece of a chunked body (one per event of a token stream) without formatting a number.
_CHUNK_TABLE_SIZE: Final = 4096
_CHUNK_HEADS: Final = tuple(b"%x\r\n" % n for n in range(_CHUNK_TABLE_SIZE))


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body (size line, data, CRLF); ``data`` is not empty."""
    size = len(data)
    if size < _CHUNK_TABLE_SIZE:
        return _CHUNK_HEADS[size] + data + b"\r\n"
    return b"%x\r\n%b\r\n" % (size, data)
