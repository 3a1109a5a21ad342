"""Device names in a message, interfaces then block devices, masked behind one cheap test.

Called by :func:`vigil.logs._tokens.mask` on every message word (or line) it masks, not on a
header. The patterns are :data:`vigil.logs._ifnames.IFNAME` and
:data:`vigil.logs._blockdevs.BLOCKDEV`; this module only decides, cheaply, when a text cannot
hold one: every name they match has a lower-case letter followed by a digit (``wg0``,
``sdb1``, ``mlx5_0``, a generated name's hex), except four forms tested as substrings
(``lo``, Docker's ``br-`` + an all-digit id, the SCSI driver's ``[sdb]`` and ``dm-3``).

Why one test: each module had its own hint regex (an alternation of the names' first letters
and a digit within 14 characters), and the two cost more than the substitutions they guarded:
on Loghub-2k's lines with every number redrawn, 0.34 s per 36,000 lines against 0.16 s now,
the same output on every fixture and Loghub line (``/tmp/maskparts3.py`` of 2 Dec, third
session; the whole ``vigil logs parse`` on that stream was 7-10 % slower than before the two
rules, ``bench/logparse_ab.py``).
"""

from __future__ import annotations

import re

from vigil.logs._blockdevs import BLOCKDEV
from vigil.logs._ifnames import IFNAME
from vigil.logs._marks import WILDCARD

_LETTER_DIGIT = re.compile(r"[a-z]\d")
"""A lower-case letter and a digit after it: in every name both patterns match but four."""


def mask_devices(content: str) -> str:
    """``content`` with each interface's and block device's name made ``<*>``."""
    if _LETTER_DIGIT.search(content) is not None:
        return BLOCKDEV.sub(WILDCARD, IFNAME.sub(WILDCARD, content))
    if "lo" in content or "br-" in content:
        content = IFNAME.sub(WILDCARD, content)
    if "[sd" in content or "dm-" in content:
        content = BLOCKDEV.sub(WILDCARD, content)
    return content
