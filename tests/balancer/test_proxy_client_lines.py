"""The client connection's per-address lines cache and its shared empty header list
(branch first6: made once per client address, not per accepted connection; the last address's
at hand on the proxy's state, branch setup21): each connection still forwards its own peer's
address, the cache stays bounded, and the shared list of a plain
head or of a connection between requests is never appended to by the requests parsed after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from vigil.balancer import _proxy_client, _proxy_peers
from vigil.balancer._http_headers import proxy_lines
from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import proxying


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    async with proxying(RoundRobinRouter([upstream("a", dead_port())])) as (proxy, _):
        yield proxy


async def test_each_connection_gets_its_own_peers_address_and_lines(proxy: Proxy) -> None:
    state = proxy.state
    a1 = ClientConnection(state, ("10.0.0.1", 5000))
    a2 = ClientConnection(state, ("10.0.0.1", 5001))
    b = ClientConnection(state, ("10.0.0.2", 5000))
    assert a1.ip == a2.ip == b"10.0.0.1"
    assert a1.lines == a2.lines == proxy_lines(b"10.0.0.1", state.proto)
    assert b.ip == b"10.0.0.2"
    assert b.lines == proxy_lines(b"10.0.0.2", state.proto)
    assert ClientConnection(state, None).ip == b"-"
    # another X-Forwarded-Proto for the same address: its own lines
    assert _proxy_peers.peer_lines("10.0.0.1", b"https")[1] == proxy_lines(b"10.0.0.1", b"https")


async def test_the_last_address_is_at_hand_and_alternating_addresses_keep_their_own(
    proxy: Proxy,
) -> None:
    state = proxy.state
    peers = ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.1", "10.0.0.3", "10.0.0.2"]
    for host in peers:
        client = ClientConnection(state, (host, 4000))
        assert client.ip == host.encode()
        assert client.lines == proxy_lines(host.encode(), state.proto)
        assert state.peer_host == host  # a burst from it finds its lines by one compare
        assert state.peer_lines == (client.ip, client.lines)
    _proxy_peers.LINES.clear()  # the shared cache emptied (past its bound): still its own
    assert ClientConnection(state, ("10.0.0.2", 1)).ip == b"10.0.0.2"
    assert ClientConnection(state, ("10.0.0.4", 1)).lines == proxy_lines(b"10.0.0.4", state.proto)


async def test_the_lines_cache_stays_bounded(proxy: Proxy) -> None:
    for i in range(_proxy_peers.LINES_MAX + 50):
        client = ClientConnection(proxy.state, (f"10.1.{i // 256}.{i % 256}", 1))
        assert client.ip == f"10.1.{i // 256}.{i % 256}".encode()
    assert 0 < len(_proxy_peers.LINES) <= _proxy_peers.LINES_MAX


class Rec:
    """A transport that records what is written."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def writelines(self, parts: list[bytes]) -> None:
        self.out.extend(parts)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 1) if name == "peername" else default

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


async def test_the_shared_empty_headers_are_never_appended_to(proxy: Proxy) -> None:
    client = ClientConnection(proxy.state)
    client.connection_made(Rec())  # type: ignore[arg-type]
    assert client.headers == []
    # a plain head (compiled), then parsed heads with headers, one without Host (HTTP/1.0:
    # the proxy appends an empty Host to its list), answered 502 (nothing listens upstream)
    client.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    client.data_received(b"GET /b HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-B: 2\r\n\r\n")
    client.data_received(b"GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert _proxy_client._NO_HEADERS == []
