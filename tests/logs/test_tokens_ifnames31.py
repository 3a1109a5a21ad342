"""A Linux network interface's name is a value from its first line (``wg0:`` -> ``<*>:``).

Rule: :mod:`vigil.logs._ifnames` (branch ``onevalue31``). On main's code the names of one or
two digits (``wg0:``, ``(eth0):``, ``eno1,``, ``ens19.30``, ``bond0:``, ``ib1:``) and ``lo``
fail the first test, and the one-line templates the second (it keeps those words until a second
name shows up in their place); the shapes it already masked as two numbered parts
(``ens1f0``, ``mlx5_0``, ``veth3a1f2c0``), the loopback's join (two words, one place) and the
near misses pass on both, kept so that the new rule keeps them.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


@pytest.mark.parametrize(
    ("word", "masked"),
    [
        ("wg0:", "<*>:"),  # WireGuard's netdev prefix
        ("(eth0):", "(<*>):"),  # NetworkManager's device
        ("'ens1f0':", "'<*>':"),  # Suricata's capture interface (a hot-plug slot's function)
        ("enp65s0f0np0", "<*>"),  # a PCI path with its physical port name
        ("enx0242ac110002", "<*>"),  # a name by MAC
        ("eno1,", "<*>,"),  # an on-board device
        ("ens19.30", "<*>"),  # a VLAN on a slot's device (Kea)
        ("bond0:", "<*>:"),
        ("ib1:", "<*>:"),  # IPoIB in the kernel's netdev messages
        ("mlx5_0", "<*>"),  # an RDMA device
        ("veth3a1f2c0:", "<*>:"),  # Docker's veth pair
        ("tap81d04e2a-c3", "<*>"),  # OpenStack Neutron's tap device
        ("(lo):", "(<*>):"),  # the loopback device, the one name without a number
    ],
)
def test_an_interface_name_is_a_value(word: str, masked: str) -> None:
    assert mask(word) == masked


def test_a_one_line_template_makes_the_interface_a_value() -> None:
    miner = TemplateMiner()
    out = [
        miner.cluster_of(line).template
        for line in [
            "wireguard: wg0: Sending keepalive packet to peer 3 (203.0.113.7:51820)",
            "eth0: Gained carrier",
            "Entering MASTER STATE on ens1f0 for VI_1",
        ]
    ]
    assert out == [
        "wireguard: <*>: Sending keepalive packet to peer <*> (<*>:<*>)",
        "<*>: Gained carrier",
        "Entering MASTER STATE on <*> for VI_1",
    ]


def test_the_loopback_and_a_numbered_interface_are_one_template() -> None:
    miner = TemplateMiner()
    clusters = [
        miner.cluster_of(line)
        for line in [
            "Listen normally on 2 lo 127.0.0.1:123",
            "Listen normally on 3 eth0 10.0.0.41:123",
        ]
    ]
    assert clusters[0].id == clusters[1].id
    assert clusters[1].template == "Listen normally on <*> <*> <*>:<*>"


@pytest.mark.parametrize(
    "word",
    [
        "broadcast_9",  # Spark's broadcast variable: "br" is some other word's prefix
        "wl0:",  # macOS's Broadcom driver tag, no udev scheme
        "mlx5_core",  # the driver, not a device
        "IN=eth0",  # after a key: the slots decide (as for a numbered name)
        "lo.IPv4",  # avahi's group on the loopback, a name of its own
        "hello",
        "ssh2",
        "tty1",
    ],
)
def test_near_misses_stay_as_written(word: str) -> None:
    assert mask(word) == word
