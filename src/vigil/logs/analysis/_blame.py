"""Who a burst is about: the sources whose lines rose, and whether they span the fleet.

Pure: no I/O, no clock. Used by :class:`~vigil.logs.analysis.BurstDetector`, which counts a
template's lines per source in its open bucket (and keeps those of the bucket before). A
template's baseline is fleet-wide (one per template, whatever node logs it), so the line that
crosses the burst threshold may be any node's: named after it, a burst of one node was blamed
on another, and a shared dependency failing on every node at once was blamed on one of them.

A source is *involved* in a burst when its lines in the bucket rose above what it logs
normally, its share of the baseline by the bucket before (``lam * before[s] / sum(before)``),
by at least ``min_count`` lines and to at least twice that share (Poisson noise of a node at
its usual rate rarely doubles it). A burst whose involved sources are on two nodes or more is
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
"""Counters per template and bucket (a Misra-Gries summary, see the module docstring). Memory:
the open bucket's and the bucket before's counts of a template logged by 1,000 sources take
~2.1 KB with 32 (~0.6 KB with one source), against ~13.5 KB with the 256 of before: ~135 MB at
the 10,000-template cap (``bench/burst_memory.py``). 32 still lists :data:`MAX_LISTED` sources
and tells a fleet-wide burst (two nodes) from one node's; a source with more than 1/33 of a
bucket's lines always holds one."""
MAX_LISTED = 20
"""Involved sources listed in a finding's evidence (the count of nodes is of all of them)."""


def node_of(source: str) -> str:
    return source.split("/", 1)[0]


def add(counts: dict[str, int], source: str, count: int) -> None:
    """Count ``count`` lines of ``source`` in the summary ``counts`` (at most
    :data:`MAX_SOURCES` counters; see the module docstring)."""
    have = counts.get(source)
    if have is not None:
        counts[source] = have + count
        return
    if len(counts) >= MAX_SOURCES:  # every counter gives up what the smallest holds
        taken = min(min(counts.values()), count)
        for key, value in list(counts.items()):
            if value > taken:
                counts[key] = value - taken
            else:
                del counts[key]
        count -= taken
        if not count:
            return
    counts[source] = count


def compact(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` in a dict of its own size: one that many sources passed through keeps the
    table they grew (a third more memory), and the bucket before is kept a whole bucket."""
    return dict(counts)


def is_involved(
    source: str,
    counts: Mapping[str, int],
    before: Mapping[str, int],
    before_total: int,
    lam: float,
    min_count: int,
) -> bool:
    """Whether ``source``'s lines in the bucket rose (see the module docstring);
    ``before_total`` is the bucket before's lines."""
    expected = lam * before.get(source, 0) / before_total if before_total else 0.0
    count = counts.get(source, 0)
    return count - expected >= min_count and count >= 2.0 * expected


def involved(
    counts: Mapping[str, int],
    before: Mapping[str, int],
    before_total: int,
    lam: float,
    min_count: int,
) -> list[tuple[str, int]]:
    """The involved sources and their lines in the bucket (as counted), most lines first."""
    found = [
        (source, count)
        for source, count in counts.items()
        if is_involved(source, counts, before, before_total, lam, min_count)
    ]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def nodes_of(sources: list[tuple[str, int]]) -> int:
    return len({node_of(source) for source, _ in sources})
