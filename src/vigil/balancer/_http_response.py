"""The response head sent back to the client, rewritten from the upstream's, and its body's framing.

Called by :mod:`vigil.balancer._http_raw` (``response_head``: a response head taken whole from
a read) once per response that is not answered whole, and by the tests. The rules are
:mod:`vigil.balancer._http_headers`' (RFC 9110 §7.6.1: hop-by-hop headers and those a
``Connection`` header names are dropped; the framing re-decided on the client's leg: a chunked
body re-chunked, any other transfer coding kept in ``Transfer-Encoding`` or, for an HTTP/1.0
client, undone by a :class:`~vigil.balancer._http_codings.BodyDecoder`). Split out of
:mod:`vigil.balancer._http_headers` (branch ``first22``), unchanged.
"""

from __future__ import annotations

from typing import Final

from vigil.balancer._http_codings import BodyDecoder
from vigil.balancer._http_headers import (
    _CODE_MAX_LEN,
    _PLAIN_CONNECTION,
    HOP_BY_HOP,
    Headers,
    _connection_tokens,
    _drop_named,
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
# The response header names' codes (see _http_headers' _CODE_MAX_LEN): 1 where a name of
# _RESPONSE_KIND has that code.
_SPECIAL_CODES: Final = bytes(
    int(any(((n[0] & 31) << 6 | len(n)) == code for n in _RESPONSE_KIND)) for code in range(2048)
)
# The kind of each response header name as the upstream spelled it (case and all), so that the
# handful of names an upstream sends cost one dict lookup each instead of a lower() and a lookup.
_KIND_BY_NAME: Final[dict[bytes, int]] = {}
_KIND_BY_NAME_MAX: Final = 256
# Client status lines by status, with the reason they were made for: upstreams answer with a
# handful of them.
_STATUS_LINES: Final[dict[int, tuple[bytes, bytes]]] = {}
_STATUS_LINES_MAX: Final = 256


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
