"""A Linux block device's name is a value from its first line (``sdb1:`` -> ``<*>:``).

Rule: :mod:`vigil.logs._blockdevs` (branch ``onevalue31``). On main's code the names of one or
two digits (``sdb1:``, ``(md0):``, ``sda5)``, ``vda1``, ``loop7``) and the SCSI driver's
``[sdb]`` fail the first test and the one-line templates the second; the shapes it masked
already as two numbered parts (``nvme4n1``, ``dm-3``) and the near misses pass on both, kept so
that the rule keeps them.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


@pytest.mark.parametrize(
    ("word", "masked"),
    [
        ("sdb1:", "<*>:"),  # a partition, the kernel's EXT4-fs and I/O error lines
        ("(md0):", "(<*>):"),  # an MD array in brackets
        ("sda5)", "<*>)"),
        ("[sdb]", "[<*>]"),  # the SCSI disk driver's bracketed disk
        ("sdb2,", "<*>,"),  # mdadm's member list
        ("vda1", "<*>"),  # virtio
        ("nvme4n1", "<*>"),  # an NVMe namespace
        ("nvme0n1p2", "<*>"),
        ("dm-3", "<*>"),  # device-mapper
        ("loop7", "<*>"),
        ("mmcblk0p1", "<*>"),
    ],
)
def test_a_block_device_name_is_a_value(word: str, masked: str) -> None:
    assert mask(word) == masked


def test_a_one_line_template_makes_the_disk_a_value() -> None:
    miner = TemplateMiner()
    out = [
        miner.cluster_of(line).template
        for line in [
            "EXT4-fs (sdb1): mounted filesystem with ordered data mode",
            "md0: detected capacity change from 0 to 2000263643136",
            "sd 2:0:0:0: [sdb] Attached SCSI disk",
        ]
    ]
    assert out == [
        "EXT4-fs (<*>): mounted filesystem with ordered data mode",
        "<*>: detected capacity change from <*> to <*>",
        "sd <*>:<*>:<*>:<*>: [<*>] Attached SCSI disk",
    ]


@pytest.mark.parametrize(
    "word",
    [
        "md5",  # the digest algorithm, not an MD array
        "md5:",
        "md4",
        "sdb",  # no number and no brackets: sdk, sdp, hdd and vdb are words too
        "sdk",
        "hdd",
        "dev=sdb1",  # a key's: the slots decide
        "sdkman",
    ],
)
def test_near_misses_stay_as_written(word: str) -> None:
    assert mask(word) == word
