"""Header rewriting for the data plane: the request head sent upstream, the rules both legs share.

Called by :mod:`vigil.balancer._proxy_client` once per request (the hot path of ``vigil
balance`` / ``vigil up``), so everything works on the raw ``bytes`` that httptools hands over
and builds each head with one ``b"".join``. The response head sent back is made by
:mod:`vigil.balancer._http_response` (with this module's hop-by-hop rules), the proxy's own
answers and the chunk framing by :mod:`vigil.balancer._http_answers` (split on 1 Dec, branch
``first22``: the module had passed 600 lines).

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
# A header name whose (first letter, length) is not one of the special names' is forwarded
# without a dict look-up (hashing each fresh name httptools hands over costs more than the rest
# of its handling): ``Date``, ``Server``, ``Content-Type``... Names that share a code with a
# special one (``Connection`` and ``Content-Length``'s c/10 and c/14) take the exact path by
# name. The code is ``(first byte & 31) << 6 | length``, ``A`` and ``a`` alike; a byte of a code
# table is 1 where a special name has that code (a bytes index: no int object, no hashing): the
# request's here, the response's in :mod:`vigil.balancer._http_response`.
_CODE_MAX_LEN: Final = 63
# A request head forwarded as the client wrote it has at most this many header lines (see
# _raw_head: the size check is exact enough only for so many).
_RAW_MAX_HEADERS: Final = 16
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
# Request header names in lower case by their spelling in the request (clients send the same
# handful of names): one dict look-up instead of a lower() call and a new bytes per header.
_LOWER: Final[dict[bytes, bytes]] = {}
_LOWER_MAX: Final = 256
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
