"""The per-request shortcuts of the header rewrite give the answers of the plain rules: request
ids across the counter's table boundaries, response header names classified without a look-up
(every spelling of a special name still handled), status lines cached per status.
"""

from __future__ import annotations

import itertools

import pytest

from vigil.balancer._http_headers import (
    _REQUEST_SPECIAL,
    HOP_BY_HOP,
    BadRequest,
    RequestIds,
    rewrite_request,
)

from .test_http_headers import _head


def test_request_ids_are_the_prefix_and_the_counter_in_ten_hex_digits_across_boundaries() -> None:
    ids = RequestIds()
    seen = [ids.next() for _ in range(70_000)]  # past 0xff, 0xffff and their neighbours
    prefix = seen[0][:12]
    assert all(rid == b"%s%010x" % (prefix, n) for n, rid in enumerate(seen, start=1))
    assert len(set(seen)) == len(seen)


def _spellings(name: bytes) -> list[bytes]:
    """Every upper/lower-case spelling of the first four letters, the rest as given."""
    head, tail = name[:4], name[4:]
    variants = itertools.product(*[(bytes([c]).lower(), bytes([c]).upper()) for c in head])
    return [b"".join(v) + tail for v in variants]


def test_every_spelling_of_a_hop_by_hop_or_framing_header_is_dropped_or_rewritten() -> None:
    special = [*HOP_BY_HOP, b"content-length", b"x-request-id", b"retry-after"]
    for name in special:
        for spelling in _spellings(name):
            value = b"5" if name in (b"content-length", b"retry-after") else b"chunked"
            head = _head([(spelling, value), (b"Content-Type", b"text/plain")])
            lines = head.split(b"\r\n")
            if name in HOP_BY_HOP:  # dropped; a body with no length is chunked by the proxy
                ours = [b"Transfer-Encoding: chunked"]
                upstreams = [line for line in lines if line.lower().startswith(name + b":")]
                assert upstreams == (ours if name == b"transfer-encoding" else []), head
            if name == b"content-length":
                assert b"Content-Length: 5" in lines  # the framing is the proxy's own
            if name == b"x-request-id":
                assert b"X-Request-Id: rid" not in lines  # the upstream's id is kept
                assert spelling + b": chunked" in lines
            assert b"Content-Type: text/plain" in lines


def test_names_sharing_a_special_names_letter_and_length_are_forwarded() -> None:
    # Set-Cookie: s/10 as no special name; Content-Type and Cache-Control: c like Connection
    # and Content-Length but other lengths; X-Request-Ix: x/12 like X-Request-Id
    names = [b"Set-Cookie", b"Content-Type", b"Cache-Control", b"X-Request-Ix", b"Trailers", b"T"]
    head = _head([(n, b"v") for n in names])
    for name in names:
        assert name + b": v\r\n" in head


def test_a_status_line_keeps_the_reason_of_each_response() -> None:
    first = _head([], 404, b"Not Found")
    second = _head([], 404, b"Nope")
    third = _head([], 404, b"Not Found")
    assert first.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert second.startswith(b"HTTP/1.1 404 Nope\r\n")
    assert third.startswith(b"HTTP/1.1 404 Not Found\r\n")


def _request_head(headers: list[tuple[bytes, bytes]], affinity: bytes | None) -> bytes:
    """The upstream request head without its X-Request-Id line (fresh per call)."""
    meta = rewrite_request(b"GET", b"/", headers, b"10.0.0.1", b"http", RequestIds(), affinity)
    lines = meta.head.split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.startswith(b"X-Request-Id: "))


def test_request_names_without_a_special_code_are_forwarded_as_the_rule_would() -> None:
    # the shortcut (no affinity header) against the look-up of every name (an affinity header
    # configured that no request carries): every spelling of every special name, and names
    # sharing a special name's first letter and length
    sharing = [b"Cookie-Abc", b"X-Request-Ix", b"Expire", b"Tz", b"X-Forwarded-Fox", b"Host"]
    for name in [*_REQUEST_SPECIAL, *sharing]:
        for spelling in _spellings(name) if len(name) >= 4 else [name, name.upper()]:
            value = b"5" if name == b"content-length" else b"chunked"
            if name in (b"x-request-id", b"x-forwarded-for"):
                value = b"abc"
            headers = [(b"Host", b"h"), (spelling, value), (b"Accept", b"*/*")]
            try:
                fast = _request_head(headers, None)
            except BadRequest:
                with pytest.raises(BadRequest):
                    _request_head(headers, b"x-none")
                continue
            assert fast == _request_head(headers, b"x-none"), spelling
            if name in sharing:
                assert spelling + b": " + value + b"\r\n" in fast
            elif name in HOP_BY_HOP or name == b"expect":
                assert spelling + b":" not in fast


def test_a_header_named_by_connection_is_dropped_when_its_name_has_no_special_code() -> None:
    headers = [(b"Connection", b"X-Hop"), (b"X-Hop", b"secret"), (b"User-Agent", b"t")]
    head = _request_head(headers, None)
    assert b"X-Hop" not in head and b"User-Agent: t\r\n" in head
