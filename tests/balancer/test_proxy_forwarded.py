"""Who the client is, on the wire: the proxy owns ``X-Forwarded-For`` (the peer's address alone)
and ``X-Forwarded-Proto`` (its own), and drops ``Forwarded``, ``X-Real-IP`` and
``X-Forwarded-Host``/``-Port`` from a peer that is not a trusted proxy; from a trusted one
(``trusted_proxies``) they pass, ``X-Forwarded-For`` with the peer appended, and the access log
names the client behind it. ``trusted_proxies`` entries that are not addresses are refused,
naming the entry.
"""

from __future__ import annotations

import logging

import pytest

from vigil.balancer._proxy_trust import forwarded_client, trusted_networks

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, proxying, roundtrip, serving

SPOOF = (
    b"GET /who HTTP/1.1\r\nHost: svc\r\nX-Forwarded-For: 6.6.6.6\r\n"
    b"X-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\n"
    b"X-Forwarded-Host: evil.example\r\nX-Forwarded-Port: 443\r\n"
    b"X-Forwarded-Proto: https\r\nUser-Agent: t\r\n\r\n"
)


async def _forwarded(raw: bytes, caplog: pytest.LogCaptureFixture, **settings: object):
    """``raw`` through a proxy: the headers the upstream got (lower-case names, in order) and
    the access log's client address."""
    async with (
        serving(fixed(b"up")) as (up,),
        proxying(RoundRobinRouter([upstream("a", up.port)]), **settings) as (_, port),
    ):
        with caplog.at_level(logging.INFO, logger="vigil.balancer.access"):
            response = await roundtrip(port, raw)
    assert response.status == 200
    (request,) = up.requests
    (line,) = [r.getMessage() for r in caplog.records if r.name == "vigil.balancer.access"]
    return [(k.lower(), v) for k, v in request.raw_headers], line.split(" ")[1]


async def test_an_untrusted_client_cannot_claim_an_address(caplog) -> None:
    headers, logged = await _forwarded(SPOOF, caplog)
    names = [k for k, _ in headers]
    for spoofable in ("x-real-ip", "forwarded", "x-forwarded-host", "x-forwarded-port"):
        assert spoofable not in names
    assert [v for k, v in headers if k == "x-forwarded-for"] == ["127.0.0.1"]
    assert [v for k, v in headers if k == "x-forwarded-proto"] == ["http"]
    assert ("user-agent", "t") in headers
    assert logged == "127.0.0.1"


async def test_a_trusted_proxy_s_headers_pass_and_name_the_client(caplog) -> None:
    headers, logged = await _forwarded(SPOOF, caplog, trusted_proxies=("127.0.0.0/8",))
    assert [v for k, v in headers if k == "x-forwarded-for"] == ["6.6.6.6, 127.0.0.1"]
    assert [v for k, v in headers if k == "x-forwarded-proto"] == ["https"]
    assert ("x-real-ip", "6.6.6.6") in headers
    assert ("forwarded", "for=6.6.6.6;proto=https") in headers
    assert ("x-forwarded-host", "evil.example") in headers
    assert logged == "6.6.6.6"


async def test_a_trusted_proxy_without_forwarded_for_is_the_client(caplog) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: svc\r\n\r\n"
    headers, logged = await _forwarded(raw, caplog, trusted_proxies=("127.0.0.1",))
    assert [v for k, v in headers if k == "x-forwarded-for"] == ["127.0.0.1"]
    assert logged == "127.0.0.1"


async def test_a_peer_outside_the_trusted_blocks_is_not_trusted(caplog) -> None:
    headers, logged = await _forwarded(SPOOF, caplog, trusted_proxies=("10.0.0.0/8", "::1"))
    assert [v for k, v in headers if k == "x-forwarded-for"] == ["127.0.0.1"]
    assert "x-real-ip" not in [k for k, _ in headers]
    assert logged == "127.0.0.1"


def test_the_client_is_the_rightmost_address_not_trusted() -> None:
    nets = trusted_networks(("10.0.0.0/8",))
    assert forwarded_client(nets, b"10.0.0.1", b"1.1.1.1, 2.2.2.2, 10.0.0.9") == b"2.2.2.2"
    assert forwarded_client(nets, b"10.0.0.1", b"10.0.0.7, 10.0.0.9") == b"10.0.0.7"
    # a hop that is no address (garbage from the trusted chain): the peer is all that is known
    assert forwarded_client(nets, b"10.0.0.1", b"1.1.1.1, bad addr") == b"10.0.0.1"
    assert forwarded_client(nets, b"10.0.0.1", None) == b"10.0.0.1"


async def test_a_bad_trusted_proxies_entry_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"trusted_proxies\[1\]: '10\.0\.0\.0/33'"):
        async with proxying(RoundRobinRouter([]), trusted_proxies=("10.0.0.0/8", "10.0.0.0/33")):
            pass
