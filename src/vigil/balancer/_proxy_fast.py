"""The data plane's fast path: a whole simple message in one read, checked with bytes methods.

Most proxied exchanges are small: the client's request head (and body, if any) arrives in one
read, and so does the replica's whole response (head and ``Content-Length`` body). For those,
:meth:`RequestParser.parse` and :func:`parse_response` check the message with a handful of
``bytes`` searches over the lower-cased head (no Python loop over the headers: on CPython one
C-level scan of the head costs less than one Python callback per header), find the few headers
that matter (``Content-Length``, ``Connection``) and build the head for the other leg by
slicing the original bytes.

Both return ``None`` whenever an assumption does not hold, and the caller then feeds the same
bytes to httptools (:mod:`vigil.balancer._proxy_client`, :mod:`vigil.balancer._proxy_upstream`),
which handles every case and answers malformed input; nothing was consumed, so falling back is
exact. ``None`` for: a head split over reads; a body not all in the read, or bytes after it
(pipelining); the string ``transfer-encoding`` anywhere in the head, or ``content-length`` more
than once or not as a clean line ``Content-Length: <digits>`` (framing is only ever decided by
httptools when in doubt, so no smuggling through a lenient check); a header line that is not
``token:`` (space in or before the name, no colon, folding); ``Expect``, ``Upgrade``, ``TE``,
``Trailer``, ``Keep-Alive``, ``Proxy-*``, a ``Connection`` value other than ``close`` /
``keep-alive``; in requests an ``X-Forwarded-*`` / ``X-Request-Id`` / affinity header or a bare CR
or LF; in responses a status below 200, 204, 304, ``X-Request-Id`` or ``Retry-After``.
Pure functions: no sockets, no clock.
"""

from __future__ import annotations

import re

from vigil.balancer._http_headers import RequestIds, RequestMeta

Headers = list[tuple[bytes, bytes]]

_TOKEN = rb"!#$%&'*+.^_`|~0-9a-z-"  # RFC 9110 token characters, lower case
# Searched in the lower-cased head from its first CRLF on: a header line that is not ``token:``,
# or one the fast path leaves to httptools. Every alternative starts with LF, so the search
# only tries them at line starts.
_BAD_LINE = rb"\n(?:[" + _TOKEN + rb"]*[^" + _TOKEN + rb":]|:"
_RESPONSE_SLOW = re.compile(
    _BAD_LINE + rb"|(?:te|trailer|upgrade|keep-alive|proxy-[^:]*|x-request-id|retry-after):)"
)
_REQUEST_SLOW = (
    _BAD_LINE + rb"|(?:te|trailer|upgrade|keep-alive|proxy-[^:]*|expect|x-forwarded-[^:]*|"
    rb"x-request-id|connection"
)


def _content_length(low: bytes) -> int:
    """The head's one clean ``Content-Length`` (-1: none; -2: anything doubtful)."""
    if b"content-length" not in low:
        return -1
    at = low.find(b"\ncontent-length:")
    if at < 0 or low.count(b"content-length") != 1:
        return -2
    value = low[at + 16 : low.find(b"\r", at)].strip(b" ")
    return int(value) if value.isdigit() else -2


class RequestParser:
    """Parses the fast-path requests of one proxy (its affinity header sends them to httptools)."""

    __slots__ = ("body_limit", "head_limit", "ids", "slow", "suffix")

    def __init__(
        self,
        *,
        ids: RequestIds,
        proto: bytes,
        affinity: bytes | None,
        head_limit: int,
        body_limit: int,
    ) -> None:
        self.ids = ids
        self.suffix = b"\r\nX-Forwarded-Proto: " + proto + b"\r\nX-Request-Id: "
        extra = b"" if affinity is None else b"|" + re.escape(affinity.lower())
        self.slow = re.compile(_REQUEST_SLOW + extra + rb"):)")
        self.head_limit = head_limit
        self.body_limit = body_limit

    def parse(
        self, data: bytes, client_ip: bytes
    ) -> tuple[bytes, bytes, RequestMeta, bool, bool, bytes] | None:
        """``data`` holding exactly one whole request: ``(method, url, meta, keep_alive,
        http10, header_lines)`` with ``meta.head`` the upstream request (body included); else
        ``None`` (use httptools)."""
        end = data.find(b"\r\n\r\n") + 4
        if end == 3 or end > self.head_limit:
            return None  # not all here, or too large: httptools answers 431 / 414
        eol = data.find(b"\r\n")
        parts = data[:eol].split(b" ")
        if len(parts) != 3:
            return None
        method, url, version = parts
        if version == b"HTTP/1.1":
            http10 = False
        elif version == b"HTTP/1.0":
            http10 = True
        else:
            return None
        if not (method.isalpha() and method.isupper() and url.isascii() and url):
            return None
        whole = data[:end]
        head = data[eol:end]  # from the request line's CRLF to the blank line
        low = head.lower()
        if (
            b"transfer-encoding" in low
            or whole.count(b"\r") != whole.count(b"\n")
            or whole.count(b"\r\n") != whole.count(b"\n")
            or self.slow.search(low, 0, len(low) - 2) is not None
        ):
            return None
        content_length = _content_length(low)
        body = len(data) - end
        if content_length == -1:
            if body:
                return None  # pipelined requests: httptools queues them
        elif body != content_length or body > self.body_limit:
            return None  # -2 too: a doubtful Content-Length
        lines = head[2:-2]
        request_id = self.ids.next()
        upstream_head = b"%b %b HTTP/1.1\r\n%bX-Forwarded-For: %b%b%b\r\n\r\n%b" % (
            method,
            url,
            lines,
            client_ip,
            self.suffix,
            request_id,
            data[end:] if body else b"",
        )
        meta = RequestMeta(upstream_head, request_id, False, content_length, False, None)
        return method, url, meta, not http10, http10, lines


def header_list(lines: bytes) -> Headers:
    """``Name: value`` CRLF-terminated lines as ``(name, value)`` pairs (for ``router_for``)."""
    pairs: Headers = []
    for line in lines.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        pairs.append((name, value.strip(b" \t")))
    return pairs


def parse_response(
    data: bytes, request_id: bytes, client_keep_alive: bool, client_http10: bool
) -> tuple[int, bytes, int, bool, bool] | None:
    """``data`` holding exactly one whole HTTP/1.1 response with a ``Content-Length`` body:
    ``(status, client_bytes, body_length, reusable, keep_alive)``, where ``client_bytes`` is the
    response for the client (``Connection`` dropped, ``X-Request-Id`` added, ``Connection`` set as
    the client connection needs), ``reusable`` says whether the upstream connection may serve
    another request and ``keep_alive`` whether the client connection stays open. ``None``: use
    httptools."""
    end = data.find(b"\r\n\r\n") + 4
    if end == 3 or data[:9] != b"HTTP/1.1 " or data[12:13] != b" ":
        return None
    code = data[9:12]
    if not code.isdigit() or code < b"200" or code == b"204" or code == b"304":
        return None
    eol = data.find(b"\r\n")
    head = data[eol:end]
    low = head.lower()
    if b"transfer-encoding" in low or _RESPONSE_SLOW.search(low, 0, len(low) - 2) is not None:
        return None
    content_length = _content_length(low)
    if content_length < 0 or len(data) - end != content_length:
        return None
    reusable = True
    cut = low.find(b"\nconnection:")
    if cut >= 0:
        stop = low.find(b"\r", cut)
        token = low[cut + 12 : stop].strip(b" \t")
        if token == b"close":
            reusable = False
        elif token != b"keep-alive" or low.find(b"\nconnection:", stop) >= 0:
            return None
        start = eol + cut - 1
        head = data[:start] + data[eol + stop : end - 2]
    else:
        head = data[: end - 2]
    if not client_keep_alive:
        tail = b"\r\nConnection: close\r\n\r\n"
    elif client_http10:
        tail = b"\r\nConnection: keep-alive\r\n\r\n"
    else:
        tail = b"\r\n\r\n"
    out = b"%bX-Request-Id: %b%b%b" % (head, request_id, tail, data[end:])
    return int(code), out, content_length, reusable, client_keep_alive
