"""A Linux network interface's name is a value, even where a log shows it with one name only.

Used by :func:`vigil.logs._devices.mask_devices` (which tests cheaply first), called by
:func:`vigil.logs._tokens.mask` on every message word (or line) it masks, not on a header,
before the word masks of :data:`vigil.logs._tokens._STRONG`.
The pattern only.

An interface name is an id the kernel or udev gave a device: which one a line names is data,
never the message's wording, as an IP address or a disk is. Without a rule a name of one or
two digits is a weak word (``eth0``, ``wg0``, ``ib1``): the miner keeps it literal until its
template's place shows a second name, and one host's log often shows one (WireGuard's
``wg0: Handshake for peer 3 ...``, systemd-networkd's ``eth0: Gained carrier``, keepalived's
``Entering MASTER STATE on eth0``), so the template kept ``wg0:`` where the labels write
``<*>:``. The fixtures' labels (README, holdout17's rule: "a device or interface name is an id,
a value even where a template shows one only") mark 110 words of the names below ``<*>`` and
keep none (``docs/benchmarks.md``, "Words of one value, round of 2 Dec, third session").

The names follow the kernel's and udev's documented naming schemes, not one program's words:

- **classic kernel names**, a driver's or a type's prefix and an index: ``eth0``, ``wlan0``,
  ``ib0`` (IPoIB), ``bond0``, ``team0``, ``wg0``, ``tun0``/``tap0``, ``br0``, ``virbr0``,
  ``docker0``, ``cni0``, ``vxlan0``, ``ppp0``, and the loopback device ``lo``, the one
  name without a number (ntpd's ``Listen normally on 2 lo 127.0.0.1:123`` beside ``... 3 eth0
  ...``: kept, it would be one template of its own, as a word against a value);
- **udev's predictable names** (systemd.net-naming-scheme(7)): a type (``en`` Ethernet, ``wl``
  WLAN, ``ww`` WWAN, ``ib`` InfiniBand) and where the device sits: on-board ``eno1``, hot-plug
  slot ``ens5``/``ens1f0``, PCI path ``enp3s0``/``enp3s0f1``/``enp65s0f0np0``, MAC
  ``enx0242ac110002``;
- **RDMA devices** of the verbs layer: ``mlx5_0``, ``bnxt_re0``, ``irdma1``, ``rxe0``;
- **generated names** of container and cloud networking: Docker's ``veth3a1f2c0`` and
  ``br-0a1b2c3d4e5f``, OpenStack's ``tap3f2a9c1e-7b`` (``qvo``, ``qvb``, ``qbr`` alike),
  Calico's ``cali0a1b2c3d4e5``;

each with an optional VLAN number (``ens19.30``, ``bond0.100``). Printed by the kernel's drivers
(``netdev_info``: ``mlx5_core 0000:3b:00.0 ens1f0: Link up``, ``bonding: bond0: ...``,
``wireguard: wg0: ...``), systemd-networkd, NetworkManager (``device (eth0): state change``),
keepalived, ntpd, BIND and Kea (``listening on eth0``), Suricata, Open vSwitch, linuxptp,
Calico's Felix, dhclient and ESXi's vmkernel.

Not a name whose prefix is some other word's (``broadcast_9``, macOS's ``wl0:``, a Broadcom
driver's tag the labels keep), not one glued to a path, a key's dot or a host (``/dev/eth0``
is a path's, ``eth0.example.com`` a host's), not an alias after a colon (``eth0:1``, left as a
word and its number).
"""

from __future__ import annotations

import re

_CLASSIC = (
    r"(?:eth|wlan|wwan|ib|bond|team|wg|tun|tap|veth|br|virbr|lxcbr|docker|cni|vxlan|ppp)\d{1,3}"
)
"""A kernel driver's or interface type's prefix and its index (``eth0``, ``wg0``, ``ib1``)."""
_PREDICTABLE = (
    r"(?:en|wl|ww|ib)(?:o\d{1,3}|s\d{1,3}(?:f\d{1,2})?|(?:P\d{1,2})?p\d{1,3}s\d{1,3}(?:f\d{1,2})?"
    r"(?:u\d{1,2})*|x[0-9a-f]{12})(?:d\d{1,2})?(?:np\d{1,2})?"
)
"""udev's predictable names: type, then on-board index, hot-plug slot, PCI path or MAC,
function, USB port, device port and physical port name (systemd.net-naming-scheme(7))."""
_RDMA = r"(?:mlx\d_\d{1,2}|bnxt_re\d{1,2}|irdma\d{1,2}|rxe\d{1,2})"
"""RDMA devices (``ibv_devices``, ``rdma link``): Mellanox/NVIDIA, Broadcom, Intel, soft RoCE."""
_GENERATED = (
    r"(?:veth(?=[0-9a-f]*\d)[0-9a-f]{7,8}|br-(?=[0-9a-f]*\d)[0-9a-f]{12}"
    r"|cali(?=[0-9a-f]*\d)[0-9a-f]{11}|(?:tap|qvo|qvb|qbr)(?=[0-9a-f]*\d)[0-9a-f]{8}-[0-9a-f]{2})"
)
"""Generated names (with a digit): Docker's veth and network bridge, Calico's veth, OpenStack
Neutron's tap device and its veth pair and bridge (the port id's first eleven hex digits)."""
IFNAME = re.compile(
    rf"(?<![\w./@:=\-])(?:(?:{_CLASSIC}|{_PREDICTABLE}|{_RDMA}|{_GENERATED})(?:\.\d{{1,4}})?|lo)"
    r"(?![\w\-/@]|[.:]\w)"
)
"""An interface's name, alone or in brackets, quotes or before a clause's punctuation
(``wg0:``, ``(eth0):``, ``'ens1f0'``, ``eth0,``, ``IfName:"eth0"``); not after a key's ``=``,
not glued to a path, a host or a port."""
