"""Who a burst is about: the sources whose lines rose, and whether they span the fleet.

Pure: no I/O, no clock. Used by :class:`~vigil.logs.analysis.BurstDetector`, which counts a
template's lines per source in its open bucket (and keeps those of the bucket before). A
template's baseline is fleet-wide (one per template, whatever node logs it), so the line that
crosses the burst threshold may be any node's: named after it, a burst of one node was blamed
on another, and a shared dependency failing on every node at once was blamed on one of them.

A source is *involved* in a burst when its lines in the bucket rose above what it logs
normally, its share of the baseline by the bucket before (``lam * before[s] / sum(before)``,
``before[s]`` the most it can have logged there, :func:`most_before`), by at least
``min_count`` lines and to at least twice that share (Poisson noise of a node at its usual rate
rarely doubles it). A burst whose involved sources are on two nodes or more is
*fleet-wide*: it is reported on the source :data:`FLEET_SOURCE` (subject ``logs:fleet``: one
incident, not one per node). A source's node is what precedes its first ``/`` (the controller
names sources ``<node>/<source>``).

The per-source counts of a bucket are a Misra-Gries summary of at most :data:`MAX_SOURCES`
counters (the heavy hitters, weighted): a source not counted yet, once they are all taken, takes
from every counter as much as the smallest holds (its own lines included), and what it has left
gets the freed counter. A source that logged more than ``1 / (MAX_SOURCES + 1)`` of the bucket's
lines is sure to hold a counter, however late in the bucket it started (keeping the first 32 to
log, a node among thousands that started later was never named); a counter is never more than
the source's lines, so the thousands of quiet sources that pass through are never named. The
expectation is taken against the bucket before's true line count (the counters add up to less).
"""

from __future__ import annotations

from collections.abc import Mapping

FLEET_SOURCE = "fleet"
"""The source of a fleet-wide burst (no ``/``, so no ``<node>/<source>`` of a real log)."""
MAX_SOURCES = 32
"""Counters per template and bucket (a Misra-Gries summary, see the module docstring). Memory
(``bench/burst_memory.py``): a template logged once a bucket by each of 256 sources takes
~2.0 KB (~0.7 KB with one source), by each of 1,000 ~0.9 KB (one-line sources empty each
other's counters), against ~13.5 KB with a cap of 256: ~135 MB at the 10,000-template cap. 32
still lists :data:`MAX_LISTED` sources and tells a fleet-wide burst (two nodes) from one
node's; a source with more than 1/33 of a bucket's lines always holds one. CPU (callgrind): a
line of a template that 1,000 sources log costs ~5 % more than with the first-32 counts; a quiet
source's line among 32 heavy ones that hold every counter, ~2.2 times as much."""
MAX_LISTED = 20
"""Involved sources listed in a finding's evidence (the count of nodes is of all of them)."""


def node_of(source: str) -> str:
    return source.split("/", 1)[0]


class Counters:
    """The Misra-Gries counters of one bucket (see the module docstring).

    What every counter gives up is kept as one ``base`` subtracted on reading, so a source that
    every counter absorbs (a quiet one among heavy ones) costs a ``min`` over the counters, not a
    pass rewriting them; they are rewritten (compact) only when one of them reaches 0.
    """

    __slots__ = ("_base", "_counts")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}  # source -> its count + base
        self._base = 0

    def __len__(self) -> int:
        return len(self._counts)

    def add(self, source: str, count: int) -> None:
        """Count ``count`` lines of ``source`` (at most :data:`MAX_SOURCES` counters)."""
        counts = self._counts
        have = counts.get(source)
        if have is not None:
            counts[source] = have + count
            return
        base = self._base
        if len(counts) >= MAX_SOURCES:  # every counter gives up what the smallest holds
            smallest = min(counts.values()) - base
            taken = min(smallest, count)
            base += taken
            count -= taken
            if taken == smallest:  # one reached 0 or more: drop them, start the base over
                kept = {key: value - base for key, value in counts.items() if value > base}
                counts.clear()
                counts.update(kept)
                base = 0
            self._base = base
            if not count:
                return
        counts[source] = count + base

    def get(self, source: str, default: int = 0) -> int:
        """The lines counted of ``source`` (at most what it logged), ``default`` if none."""
        have = self._counts.get(source)
        return default if have is None else have - self._base

    def as_dict(self) -> dict[str, int]:
        """The counts, in a dict of their own (the bucket before is kept a whole bucket)."""
        base = self._base
        return {key: value - base for key, value in self._counts.items()}


def is_involved(
    source: str,
    counts: Counters,
    before: Mapping[str, int],
    before_total: int,
    lam: float,
    min_count: int,
) -> bool:
    """Whether ``source``'s lines in the bucket rose (see the module docstring);
    ``before_total`` is the bucket before's lines."""
    expected = (
        lam * most_before(source, before, before_total) / before_total if before_total else 0.0
    )
    count = counts.get(source, 0)
    return count - expected >= min_count and count >= 2.0 * expected


def most_before(source: str, before: Mapping[str, int], before_total: int) -> float:
    """The most lines ``source`` can have logged in the bucket before: its counter plus what a
    counter gives up at most, ``(before_total - sum(before)) / (MAX_SOURCES + 1)`` (each time
    the counters give up ``n`` lines, ``MAX_SOURCES + 1`` sources lose ``n``). Its counter alone
    took a source whose counter was emptied (or never held) for one that logged nothing, so its
    usual lines "rose": one node's burst among 40 agents was reported fleet-wide on 25 nodes.
    Exact (no slack) while the counters hold every source."""
    lost = before_total - sum(before.values())
    return before.get(source, 0) + (lost / (MAX_SOURCES + 1) if lost > 0 else 0.0)


def involved(
    counts: Counters,
    before: Mapping[str, int],
    before_total: int,
    lam: float,
    min_count: int,
) -> list[tuple[str, int]]:
    """The involved sources and their lines in the bucket (as counted), most lines first."""
    found = [
        (source, count)
        for source, count in counts.as_dict().items()
        if is_involved(source, counts, before, before_total, lam, min_count)
    ]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def nodes_of(sources: list[tuple[str, int]]) -> int:
    return len({node_of(source) for source, _ in sources})
