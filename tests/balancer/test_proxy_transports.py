"""uvloop's table of transports, lightened by the proxy's listener: same answers, no callbacks."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from typing import Any

import pytest
import uvloop

from vigil.balancer._proxy_transports import Store, lighten, lightened
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, upstream
from ._upstreams import fixed, roundtrip, serving, until_no_client

CONNECTIONS = 40


class Thing:
    """Something a weak reference can point to."""


class OneTable:
    """An object holding one table, as uvloop's loop does."""

    def __init__(self) -> None:
        self.table: weakref.WeakValueDictionary[int, Thing] = weakref.WeakValueDictionary()


def table_of(loop: object) -> weakref.WeakValueDictionary[Any, Any]:
    (table,) = [o for o in gc.get_referents(loop) if isinstance(o, weakref.WeakValueDictionary)]
    return table


def test_an_entry_reads_as_absent_once_its_object_is_gone_and_is_replaced_when_set_again() -> None:
    holder = OneTable()
    assert lighten(holder) is True and lightened(holder.table)
    table = holder.table
    first, second = Thing(), Thing()
    table[7] = first
    assert table[7] is first and 7 in table and table.get(7) is first
    del first
    assert 7 not in table and table.get(7) is None
    with pytest.raises(KeyError):
        table[7]
    table[7] = second
    assert table[7] is second
    assert type(table.data[7]) is weakref.ref  # no KeyedRef, no callback
    # the class's __setitem__ is a callable object, called without the table (no __get__)
    assert isinstance(type(table).__dict__["__setitem__"], Store)
    assert lighten(holder) is True and type(holder.table) is type(table)  # once is enough


def test_each_table_gets_its_own_class_storing_into_its_own_dictionary() -> None:
    one, two = OneTable(), OneTable()
    assert lighten(one) and lighten(two)
    first, second = Thing(), Thing()
    one.table[1] = first
    two.table[1] = second
    assert one.table[1] is first and two.table[1] is second
    assert type(one.table) is not type(two.table)


def test_an_object_without_exactly_one_table_is_left_alone() -> None:
    class TwoTables:
        def __init__(self) -> None:
            self.a: weakref.WeakValueDictionary[int, Thing] = weakref.WeakValueDictionary()
            self.b: weakref.WeakValueDictionary[int, Thing] = weakref.WeakValueDictionary()

    two = TwoTables()
    assert lighten(object()) is False
    assert lighten(two) is False
    assert type(two.a) is type(two.b) is weakref.WeakValueDictionary


def test_under_uvloop_a_live_descriptor_is_still_refused_and_closed_ones_are_freed() -> None:
    """The one thing uvloop's table is for (add_reader on a transport's descriptor: refused)
    holds with the lightened table, for a connection accepted after many were; and no entry
    keeps a closed connection's transport alive."""

    async def scenario() -> tuple[bool, int, str, int]:
        loop = asyncio.get_running_loop()
        async with serving(fixed(b"ok")) as (up,):
            proxy = Proxy(RoundRobinRouter([upstream("a", up.port)]))
            port = await proxy.start()
            try:
                request = b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
                for _ in range(CONNECTIONS):
                    assert (await roundtrip(port, request)).status == 200
                await until_no_client(proxy)
                kind = lightened(table_of(loop))
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await reader.readuntil(b"\r\n\r\n")
                (client,) = proxy.state.clients
                transport = client.transport  # type: ignore[attr-defined]
                fd = transport.get_extra_info("socket").fileno()
                with pytest.raises(RuntimeError, match="used by transport") as refused:
                    loop.add_reader(fd, lambda: None)
                writer.close()
                await until_no_client(proxy)
                del client, transport
                live = sum(
                    1
                    for ref in table_of(loop).data.values()
                    if (t := ref()) is not None and t.get_extra_info("sockname", ("", 0))[1] == port
                )
                return kind, fd, str(refused.value), live
            finally:
                await proxy.stop(0.5)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        kind, fd, refused, live = runner.run(scenario())
    assert kind is True
    assert fd >= 0 and "used by transport" in refused
    assert live == 0  # every closed client transport freed (reference counting, no callback)


def test_the_table_still_refuses_a_plain_socket_transport_made_by_uvloop() -> None:
    """A transport uvloop made itself (create_connection) is recorded by the same table."""

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        lighten(loop)
        assert lightened(table_of(loop))
        listener = socket.create_server(("127.0.0.1", 0))
        try:
            transport, _ = await loop.create_connection(
                asyncio.Protocol, "127.0.0.1", listener.getsockname()[1]
            )
            fd = transport.get_extra_info("socket").fileno()
            try:
                with pytest.raises(RuntimeError) as refused:
                    loop.add_reader(fd, lambda: None)
                return str(refused.value)
            finally:
                transport.close()
        finally:
            listener.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert "used by transport" in runner.run(scenario())
