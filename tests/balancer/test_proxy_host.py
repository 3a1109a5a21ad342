"""The request's Host on the wire (RFC 9112 §3.2): an HTTP/1.1 request without one is answered
400 on the plain-head path and the parser's, never forwarded; an HTTP/1.0 one goes out with an
empty Host (the upstream leg is HTTP/1.1, which requires one; the target has no authority).
"""

from __future__ import annotations

import asyncio

import pytest

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, read_response, serving, through_one_upstream


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\n\r\n",  # a plain head (compiled: the plain-head path)
        b"GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n",
        b"POST /v1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",  # the parser's path
        b"GET /x HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
    ],
    ids=["plain-no-headers", "plain-one-header", "parsed-post", "parsed-connection"],
)
async def test_an_http11_request_without_host_is_answered_400_and_not_forwarded(
    request_bytes: bytes,
) -> None:
    resp, up = await through_one_upstream(request_bytes)
    assert resp.status == 400
    assert b"Host" in resp.body
    assert resp.headers.get("connection") == "close"
    assert up.requests == []


async def test_an_http10_request_without_host_goes_upstream_with_an_empty_host() -> None:
    resp, up = await through_one_upstream(b"GET /old HTTP/1.0\r\nUser-Agent: t\r\n\r\n")
    assert (resp.status, resp.body) == (200, b"up")
    (req,) = up.requests
    assert [v for k, v in req.raw_headers if k.lower() == "host"] == [""]


async def test_a_second_request_without_host_after_a_good_one_gets_400_on_the_same_connection() -> (
    None
):
    async with serving(fixed(b"up")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /1 HTTP/1.1\r\nHost: s\r\n\r\n")
            first = await asyncio.wait_for(read_response(reader), 5)
            writer.write(b"GET /2 HTTP/1.1\r\n\r\n")
            second = await asyncio.wait_for(read_response(reader), 5)
            writer.close()
    assert (first.status, second.status) == (200, 400)
    assert [r.path for r in up.requests] == ["/1"]


@pytest.mark.parametrize("value", [b"a b", b"a/b", b"user@h", b"h?x", b"<h>", b'h"x', b"h\\x"])
@pytest.mark.parametrize("path", ["plain", "parsed"])
async def test_a_host_that_is_not_host_and_port_is_answered_400(value: bytes, path: str) -> None:
    # RFC 9112 §3.2: 400 to a Host field with an invalid value (uri-host [":" port])
    extra = b"" if path == "plain" else b"Connection: keep-alive\r\n"
    resp, up = await through_one_upstream(b"GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (value, extra))
    assert resp.status == 400
    assert up.requests == []


@pytest.mark.parametrize(
    "value", [b"[::1]:8080", b"my_host.example:80", b"", b"10.0.0.1", b"xn--bcher-kva.example"]
)
@pytest.mark.parametrize("path", ["plain", "parsed"])
async def test_a_host_and_port_of_any_form_is_forwarded(value: bytes, path: str) -> None:
    extra = b"" if path == "plain" else b"Connection: keep-alive\r\n"
    resp, up = await through_one_upstream(b"GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (value, extra))
    assert (resp.status, resp.body) == (200, b"up")
    (req,) = up.requests
    assert req.headers["host"] == value.decode()
