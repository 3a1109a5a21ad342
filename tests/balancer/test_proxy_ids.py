"""The per-request shortcuts of the header rewrite give the answers of the plain rules: request
ids across the counter's table boundaries, response header names classified without a look-up
(every spelling of a special name still handled), status lines cached per status.
"""

from __future__ import annotations

import itertools

from vigil.balancer._http_headers import HOP_BY_HOP, RequestIds

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
