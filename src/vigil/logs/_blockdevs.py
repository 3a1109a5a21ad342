"""A Linux block device's name is a value, even where a log shows it with one name only.

Used by :func:`vigil.logs._devices.mask_devices` (which tests cheaply first), called by
:func:`vigil.logs._tokens.mask` on every message word (or line) it masks, not on a header,
after :data:`vigil.logs._ifnames.IFNAME`. Patterns only.

Which disk, partition or array a line names is data, as an interface is
(:mod:`vigil.logs._ifnames`): the fixtures' README (holdout17's rule) writes "a device or
interface name (``eth0``, ``md0``, ``sdb2``) is an id, a value even where a template shows one
only". A name with one or two digits is a weak word (``sdb1:``, ``md0:``): the miner kept it
until a second name showed up in its place, so a disk's one-line event kept its name. The names
are the kernel's, fixed by its drivers (Documentation/admin-guide/devices.txt): SCSI/SATA disks
and their partitions ``sda``, ``sdb1``, ``sdaa2``; IDE ``hda1``; virtio ``vda1``; Xen
``xvda1``; NVMe namespaces and partitions ``nvme0n1``, ``nvme4n1p2``; MD arrays ``md0``,
``md127``; device-mapper ``dm-3``; loop, network block and RADOS devices ``loop7``, ``nbd0``,
``rbd0``; MMC ``mmcblk0p1``; optical ``sr0``. Printed by the kernel (``EXT4-fs (sdb1):``,
``sd 2:0:0:0: [sdb] ...``, ``md/raid1:md0: ...``), mdadm, smartd, multipathd, LVM, Ceph's
ceph-volume, NVIDIA's cuFile and Proxmox.

Not the hash algorithms ``md4`` and ``md5`` (an MD array's number, not these words: DVC's
``md5:`` is a key the labels keep), not a name glued to a path, a key or a host
(``/dev/sdb1`` is a path's, ``dev=sdb1`` a key's), not a longer word (only ``sd`` and
one or two letters, and a number: a disk without one only in the SCSI driver's brackets,
``[sdb]``, since ``sdk``, ``sdp``, ``hdd`` and ``vdb`` are words too).
"""

from __future__ import annotations

import re

BLOCKDEV = re.compile(
    r"(?<![\w./@:=\-])(?:sd[a-z]{1,2}\d{1,2}|(?<=\[)sd[a-z]{1,2}(?=\])|[hv]d[a-z]\d{1,2}"
    r"|xvd[a-z]{1,2}\d{1,2}"
    r"|nvme\d{1,2}n\d{1,2}(?:p\d{1,2})?|md(?![45](?!\d))\d{1,3}|dm-\d{1,3}|loop\d{1,3}"
    r"|nbd\d{1,2}|rbd\d{1,3}|mmcblk\d{1,2}(?:p\d{1,2})?|sr\d)(?![\w\-/@]|[.:]\w)"
)
"""A block device's name, alone or in brackets, quotes or before a clause's punctuation
(``sdb1:``, ``(md0):``, ``[sdb]``, ``sdb2,``)."""
