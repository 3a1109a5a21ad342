"""Headers a client's ``Connection`` names (RFC 9110 §7.6.1): dropped from the upstream request,
except ``Host``, which the upstream needs (an HTTP/1.1 request without it is answered 400), and
the framing headers, which the proxy decides itself from the body it forwards.
"""

from __future__ import annotations

import pytest

from ._upstreams import through_one_upstream


@pytest.mark.parametrize("value", [b"Host", b"host, X-Gone", b"keep-alive, HOST"])
async def test_connection_naming_host_keeps_the_host(value: bytes) -> None:
    resp, up = await through_one_upstream(
        b"GET /h HTTP/1.1\r\nHost: svc:81\r\nX-Gone: 1\r\nConnection: %s\r\n\r\n" % value
    )
    assert (resp.status, resp.body) == (200, b"up")
    (req,) = up.requests
    assert [v for k, v in req.raw_headers if k.lower() == "host"] == ["svc:81"]


async def test_connection_naming_another_header_still_drops_it() -> None:
    resp, up = await through_one_upstream(
        b"GET /h HTTP/1.1\r\nHost: s\r\nX-Gone: 1\r\nX-Kept: 2\r\nConnection: X-Gone\r\n\r\n"
    )
    assert resp.status == 200
    (req,) = up.requests
    assert "x-gone" not in req.headers
    assert req.headers["x-kept"] == "2"


@pytest.mark.parametrize("value", [b"Content-Length", b"Transfer-Encoding"])
async def test_connection_naming_a_framing_header_still_frames_the_body(value: bytes) -> None:
    # the proxy writes the upstream framing itself: the body arrives whole either way
    if value == b"Content-Length":
        body = b"Content-Length: 5\r\n\r\nhello"
    else:
        body = b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    resp, up = await through_one_upstream(
        b"POST /b HTTP/1.1\r\nHost: s\r\nConnection: %s\r\n%s" % (value, body)
    )
    assert resp.status == 200
    (req,) = up.requests
    assert req.body == b"hello"
