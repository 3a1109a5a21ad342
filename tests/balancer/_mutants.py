"""Random byte mutations of HTTP heads, for the fuzz tests of the fast paths that judge a head
without the parser (``test_http_plain.py``, ``test_http_whole.py``): each mutant must be read by
llhttp as the fast path reads it, whenever the fast path takes it."""

from __future__ import annotations

import random
from collections.abc import Sequence


def mutant(rng: random.Random, seeds: Sequence[bytes], alphabet: bytes) -> bytes:
    """One of ``seeds`` with one to three single-byte replacements, insertions or deletions,
    the new bytes drawn from ``alphabet``."""
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data))
        kind = rng.randrange(3)
        byte = alphabet[rng.randrange(len(alphabet))]
        if kind == 0:
            data[at] = byte
        elif kind == 1:
            data.insert(at, byte)
        elif len(data) > 1:
            del data[at]
    return bytes(data)
