"""TRACE (RFC 9110 §9.3.8) is answered 405 with ``Allow`` and closed by the proxy, never
forwarded: an upstream echoing it would reflect headers that proxies in front added (cookies,
``Authorization``) to a script that may not read them (cross-site tracing); nginx answers 405
too. ``allow_trace`` forwards it like any other method.
"""

from __future__ import annotations

import pytest

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, roundtrip, serving, through_one_upstream


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"TRACE / HTTP/1.1\r\nHost: s\r\nCookie: secret=1\r\n\r\n",
        b"TRACE /x HTTP/1.1\r\nHost: s\r\nConnection: keep-alive\r\n\r\n",
        b"TRACE / HTTP/1.0\r\n\r\n",
    ],
    ids=["1.1", "1.1-keep-alive", "1.0"],
)
async def test_trace_is_answered_405_with_allow_and_not_forwarded(request_bytes: bytes) -> None:
    resp, up = await through_one_upstream(request_bytes)
    assert resp.status == 405
    allowed = {m.strip() for m in resp.headers["allow"].split(",")}
    assert "TRACE" not in allowed
    assert {"GET", "POST"} <= allowed
    assert resp.headers.get("connection") == "close"
    assert up.requests == []


async def test_trace_is_forwarded_when_allowed() -> None:
    async with serving(fixed(b"up")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router, allow_trace=True) as (_, port):
            resp = await roundtrip(port, b"TRACE /t HTTP/1.1\r\nHost: s\r\n\r\n")
    assert (resp.status, resp.body) == (200, b"up")
    assert [(r.method, r.path) for r in up.requests] == [("TRACE", "/t")]
