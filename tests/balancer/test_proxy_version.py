"""The request line's HTTP version on the wire (RFC 9110 §15.6.6, RFC 9112 §2.3): a request of
any major version other than 1 is answered 505 and the connection closed, never forwarded (the
upstream leg is HTTP/1.1: an ``HTTP/2.0`` request line went out as ``HTTP/1.1``).
"""

from __future__ import annotations

import asyncio

import pytest

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, read_response, serving, through_one_upstream


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


GOOD = b"GET /good HTTP/1.1\r\nHost: s\r\n\r\n"
# RFC 9110 §15.6.6 / RFC 9112 §2.3: 505 for a well-formed version (DIGIT "." DIGIT) of another
# major version; 400 for a malformed one (llhttp's "Invalid major/minor version", "Expected
# dot", "Expected CRLF after version"), and for HTTP/1.2 (a minor version llhttp rejects)
VERSIONS = [
    (b"GET / HTTP/2.0\r\nHost: s\r\n\r\n", 505),
    (b"GET / HTTP/3.0\r\nHost: s\r\n\r\n", 505),
    (b"GET / HTTP/9.9\r\nHost: s\r\n\r\n", 505),
    (b"GET / HTTP/0.1\r\nHost: s\r\n\r\n", 505),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    (b"GET / HTTP/1.x\r\nHost: s\r\n\r\n", 400),
    (b"GET / HTTP/x.1\r\nHost: s\r\n\r\n", 400),
    (b"GET / HTTP/2.x\r\nHost: s\r\n\r\n", 400),
    (b"GET / HTTP/2.0x\r\nHost: s\r\n\r\n", 400),
    (b"GET / HTTP/11.1\r\nHost: s\r\n\r\n", 400),
    (b"GET / HTTP/1.2\r\nHost: s\r\n\r\n", 400),
]
VERSION_IDS = [
    "2.0", "3.0", "9.9", "0.1", "h2-preface", "1.x", "x.1", "2.x", "2.0x", "11.1", "1.2",
]  # fmt: skip


@pytest.mark.parametrize("where", ["first", "same-read", "next-read"])
@pytest.mark.parametrize(("bad", "status"), VERSIONS, ids=VERSION_IDS)
async def test_a_bad_version_gets_the_same_answer_first_or_pipelined(
    bad: bytes, status: int, where: str
) -> None:
    """The answer depends on the bad request line alone: sent first, pipelined behind a good
    request in the same read (its version was judged by the read's first line: HTTP/3.0 got
    400, HTTP/x.1 505), or in a read of its own after the good one was answered."""
    async with serving(fixed(b"up")) as (up,):
        router = RoundRobinRouter([upstream("a", up.port)])
        async with proxying(router) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                statuses = []
                if where == "first":
                    writer.write(bad)
                elif where == "same-read":
                    writer.write(GOOD + bad)
                    statuses.append((await asyncio.wait_for(read_response(reader), 10)).status)
                else:
                    writer.write(GOOD)
                    statuses.append((await asyncio.wait_for(read_response(reader), 10)).status)
                    writer.write(bad)
                resp = await asyncio.wait_for(read_response(reader), 10)
                statuses.append(resp.status)
                closed = await asyncio.wait_for(reader.read(), 10)
            finally:
                writer.close()
    assert statuses == ([status] if where == "first" else [200, status])
    assert resp.headers.get("connection") == "close" and closed == b""
    assert [r.path for r in up.requests] == ([] if where == "first" else ["/good"])
