"""Plain request heads taken whole from the read, without the request parser's callbacks.

Called by :class:`~vigil.balancer._proxy_client.ClientConnection` for a read that begins
between two requests (the hot path of ``vigil balance`` / ``vigil up``): when the read is
exactly one request head and nothing else, and the head is of the plainest kind, it is
forwarded as the client wrote it (with the proxy's own lines, as
:func:`~vigil.balancer._http_headers.rewrite_request` does for such a head) and httptools is not
called at all. Its callbacks cost more than the head's whole rewrite: llhttp's run, and a
Python call for the message's begin, the URL, each header name and value, the head's and the
message's end (~1,000 instructions per header compiled).

"The plainest kind" is checked byte by byte here, stricter than llhttp (RFC 9112 §3, RFC 9110
§5.5-5.6.2): ``GET``, ``HEAD``, ``DELETE`` or ``OPTIONS``, one SP, an origin-form target made
only of RFC 3986's unreserved, sub-delims, ``:@/?%`` bytes, one SP, ``HTTP/1.1``, CRLF; then
at most :data:`MAX_LINES` lines ``token ":" value CRLF`` whose value has only visible ASCII, SP
and HTAB (no obs-text, no CTL, no bare CR or LF), and whose name no special request header may
have (the code table of :mod:`~vigil.balancer._http_headers`: no ``Content-Length``,
``Transfer-Encoding``, ``Connection``, ``Upgrade``, ``Expect``, ``X-Request-Id``...; so the
request has no body and stays alive), and exactly one ``Host`` line, whose
value has only the bytes of a host and port (none, a second one, or another byte in it gets
the parser's path: 400); then the empty line, which must be the read's last two bytes (a read
holding more — a body, a pipelined request, a second empty line — goes to the parser).
Anything else returns -1 and the read goes to httptools, which judges and frames it as
before; every head taken here is one llhttp accepts with the same meaning, and the parser is
left where it would be after it (between two requests: nothing of its state carries over).
``tests/balancer/test_http_plain.py`` holds the decisions, ``test_proxy_plain_heads.py`` the
wire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from vigil.balancer._http_headers import _CODE_MAX_LEN, _REQUEST_CODES

if TYPE_CHECKING:  # compiled, the offsets are machine integers (no tag checks per byte)
    from mypy_extensions import i64

# At most this many header lines are taken here (a longer head goes to the parser).
MAX_LINES: Final = 32
# Byte classes, as bits of one table (compiled, an index is an inline load): a token byte
# (tchar, RFC 9110 §5.6.2), a field value byte (VCHAR, SP, HTAB; no obs-text), a request
# target byte (RFC 3986 unreserved, sub-delims, ":", "@", "/", "?", "%").
_TOKEN: Final = 1
_VALUE: Final = 2
_TARGET: Final = 4
_HOST: Final = 8  # a Host value byte: uri-host [":" port] (RFC 9112 §3.2, RFC 3986 §3.2.2)
_ALPHA_DIGIT: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_TOKEN_BYTES: Final = _ALPHA_DIGIT | frozenset(b"!#$%&'*+-.^_`|~")
_TARGET_BYTES: Final = _ALPHA_DIGIT | frozenset(b"-._~!$&'()*+,;=:@/?%")
HOST_BYTES: Final = _ALPHA_DIGIT | frozenset(b"-._~!$&'()*+,;=%:[]")
_CLASS: Final = bytes(
    (_TOKEN if c in _TOKEN_BYTES else 0)
    | (_VALUE if 0x20 <= c <= 0x7E or c == 0x09 else 0)
    | (_TARGET if c in _TARGET_BYTES else 0)
    | (_HOST if c in HOST_BYTES else 0)
    for c in range(256)
)
# The methods taken here, by first byte: (the request line's start to the target, the method)
_GET: Final = b"GET /"
_HEAD: Final = b"HEAD /"
_DELETE: Final = b"DELETE /"
_OPTIONS: Final = b"OPTIONS /"
_END: Final = b"\r\n\r\n"


def plain_request(data: bytes, limit: int) -> int:
    """Where the request target of the one plain head that is all of ``data`` ends (the SP
    before ``HTTP/1.1``), or -1 when ``data`` is anything else (see the module docstring);
    ``limit``: the most bytes a head may have. The method is :func:`method_of` ``data``; the
    target runs from after its SP to the returned offset."""
    n: i64 = len(data)
    if n > limit or n < 18 or not data.endswith(_END):
        return -1
    first = data[0]
    i: i64 = 0
    if first == 71 and data.startswith(_GET):
        i = 4
    elif first == 72 and data.startswith(_HEAD):
        i = 5
    elif first == 68 and data.startswith(_DELETE):
        i = 7
    elif first == 79 and data.startswith(_OPTIONS):
        i = 8
    else:
        return -1
    table = _CLASS
    # the target: stops at the latest at the CR CR LF the read ends with (not target bytes)
    c: i64 = data[i]
    while table[c] & _TARGET:
        i += 1
        c = data[i]
    target_end: i64 = i
    if (
        i + 13 > n  # " HTTP/1.1" CRLF and the empty line
        or c != 32
        or data[i + 1] != 72  # H
        or data[i + 2] != 84  # T
        or data[i + 3] != 84  # T
        or data[i + 4] != 80  # P
        or data[i + 5] != 47  # /
        or data[i + 6] != 49  # 1
        or data[i + 7] != 46  # .
        or data[i + 8] != 49  # 1
        or data[i + 9] != 13
        or data[i + 10] != 10
    ):
        return -1
    i += 11
    lines: i64 = 0
    host = False  # a Host line was seen (a second one goes to the parser: 400)
    while True:
        c = data[i]
        if c == 13:  # the empty line: the read's last two bytes (LF checked by endswith)
            # and a Host line seen (RFC 9112 §3.2: without one, the parser's path answers 400)
            return target_end if i == n - 2 and host else -1
        start: i64 = i
        while table[c] & _TOKEN:  # the name; stops at the latest at a CR
            i += 1
            c = data[i]
        size: i64 = i - start
        lines += 1
        if (
            c != 58  # ":" right after the name (no SP before it: llhttp rejects that too)
            or size == 0
            or size > _CODE_MAX_LEN
            or _REQUEST_CODES[(data[start] & 31) << 6 | size]  # may be a special name
            or lines > MAX_LINES
        ):
            return -1
        if (
            size == 4  # Host, in any case (RFC 9112 §3.2: a second one is answered 400)
            and data[start] | 32 == 104
            and data[start + 1] | 32 == 111
            and data[start + 2] | 32 == 115
            and data[start + 3] | 32 == 116
        ):
            if host:
                return -1
            host = True
            i += 1
            c = data[i]
            while c == 32 or c == 9:  # OWS
                i += 1
                c = data[i]
            while table[c] & _HOST:  # a byte of neither kind goes to the parser's path: 400
                i += 1
                c = data[i]
            while c == 32 or c == 9:
                i += 1
                c = data[i]
        else:
            i += 1
            c = data[i]
            while c <= 126 and (c >= 32 or c == 9):  # the value (VCHAR, OWS), compared: no
                # index check on a table; stops at the latest at a CR
                i += 1
                c = data[i]
        if c != 13 or data[i + 1] != 10:  # a CTL, obs-text, or a bare CR
            return -1
        i += 2  # at most n - 2: the value stopped at a CR before the read's last CR LF


def method_of(data: bytes) -> bytes:
    """The method of a head :func:`plain_request` took (one of four constants: no slice)."""
    first = data[0]
    if first == 71:
        return b"GET"
    if first == 72:
        return b"HEAD"
    if first == 68:
        return b"DELETE"
    return b"OPTIONS"
