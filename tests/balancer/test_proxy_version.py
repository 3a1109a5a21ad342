"""The request line's HTTP version on the wire (RFC 9110 §15.6.6, RFC 9112 §2.3): a request of
any major version other than 1 is answered 505 and the connection closed, never forwarded (the
upstream leg is HTTP/1.1: an ``HTTP/2.0`` request line went out as ``HTTP/1.1``).
"""

from __future__ import annotations

import pytest

from ._upstreams import through_one_upstream


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/2.0\r\nHost: s\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: s\r\nConnection: keep-alive\r\n\r\n",
        b"POST /v1 HTTP/2.0\r\nHost: s\r\nContent-Length: 2\r\n\r\n{}",
        b"GET / HTTP/2.0\r\n\r\n",  # no Host: still the version's answer
        b"GET / HTTP/3.0\r\nHost: s\r\n\r\n",
        b"GET / HTTP/0.9\r\nHost: s\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # HTTP/2 with prior knowledge (h2c)
    ],
    ids=["2.0", "2.0-keep-alive", "2.0-post", "2.0-no-host", "3.0", "0.9", "h2-preface"],
)
async def test_a_request_of_another_major_version_is_answered_505_and_not_forwarded(
    request_bytes: bytes,
) -> None:
    resp, up = await through_one_upstream(request_bytes)
    assert resp.status == 505
    assert resp.headers.get("connection") == "close"
    assert up.requests == []


@pytest.mark.parametrize("version", [b"1.0", b"1.1"])
async def test_http1_requests_are_still_forwarded(version: bytes) -> None:
    resp, up = await through_one_upstream(b"GET /v HTTP/%s\r\nHost: s\r\nX-A: b\r\n\r\n" % version)
    assert (resp.status, resp.body) == (200, b"up")
    assert [r.path for r in up.requests] == ["/v"]


async def test_an_unknown_minor_version_of_http1_stays_a_400() -> None:
    # llhttp rejects HTTP/1.2: a bad request, not a major version the proxy refuses
    resp, up = await through_one_upstream(b"GET / HTTP/1.2\r\nHost: s\r\n\r\n")
    assert resp.status == 400
    assert up.requests == []
