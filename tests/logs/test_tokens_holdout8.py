"""Masking rules added in the holdout8 round: interfaces by slot and port, fabric node ids."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_an_interface_named_by_slot_and_port_is_one_value() -> None:
    assert mask("Interface GigabitEthernet1/0/14, changed state to down") == (
        "Interface <*>, changed state to down"
    )
    assert mask("on TenGigabitEthernet1/1/2 from FULL") == "on <*> from FULL"
    assert mask("link ge-0/0/1 up, unit xe-1/2/0.100 down") == "link <*> up, unit <*> down"
    # a product or protocol version and a fraction are not interfaces
    assert mask("HTTP/1.1 200") == "HTTP/1.1 <*>"  # kept whole since holdout11's protocol rule
    assert mask("Channel 00/32 via P2P") == "Channel <*>/<*> via P2P"


def test_an_address_at_a_named_network_is_one_value() -> None:
    assert mask("operation ost_connect to node 10.10.0.23@o2ib failed") == (
        "operation ost_connect to node <*> failed"
    )
    assert mask("Connection restored to 10.1.0.4@tcp1 (at 10.1.0.4@tcp1)") == (
        "Connection restored to <*> (at <*>)"
    )
    # a mailbox stays one value as before; a bare address stays dotted
    assert mask("from=<bob@example.org> to 10.0.0.1") == "from=<<*>> to <*>"


def test_a_function_with_its_offset_in_a_backtrace_frame_is_a_value() -> None:
    assert mask("[ 1] /opt/app/lib/libsolver.so(assemble_matrix+0x1a4)[0x7f3a4f2b11d4]") == (
        "[ <*>] <*>(<*>)[<*>]"
    )
    assert mask("RIP: 0010:__schedule+0x2a4/0x7d0") == "RIP: <*>:<*>"
    assert mask("[ 0] /lib64/libpthread.so.0(+0x12cf0)[0x7f3a51e6acf0]") == "[ <*>] <*>(+<*>)[<*>]"
    # a name plus a decimal number is not a frame: the name stays
    assert mask("total=a+5 items") == "total=a+<*> items"
