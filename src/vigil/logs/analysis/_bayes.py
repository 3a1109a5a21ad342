"""Bayes: ``P(fault | template)`` from history, to rank which templates matter.

Pure: no I/O, no clock; every method takes ``now`` (seconds, any origin) and first closes the
slots whose horizon has passed. Fed, in time order, template occurrences
(:meth:`FaultBayes.occurrence`) and incident openings (:meth:`FaultBayes.incident`).

Time is cut into slots of ``slot`` seconds. A slot is a *fault* slot when an incident opens
during it or within ``window`` seconds after its end (so every line within W before an incident
is in a fault slot; a line after an incident in the same slot is too, which a slot much shorter
than W keeps rare). A slot is counted once its horizon has passed. With ``N`` slots, ``F``
fault slots, ``n_T`` slots holding template T and ``f_T`` fault slots holding it, Bayes' rule
with additive (Laplace) smoothing gives::

    P(fault)          = (F + 1) / (N + 2)                          Laplace, one pseudo-slot each
    P(fault | T)      = P(T | fault) P(fault) / P(T)
                      = (f_T + m P(fault)) / (n_T + m)             m = SMOOTHING = 2

where the second line is the first with the slot counts of T smoothed by ``m`` pseudo-slots
holding T, shared between fault and no-fault in the proportion ``P(fault)`` (with the plain
estimates ``P(T | fault) = f_T / F``, ``P(fault) = F / N``, ``P(T) = n_T / N`` the rule is
exactly ``f_T / n_T``). Sharing the pseudo-slots by the prior, rather than adding one to each
class, keeps a template with no evidence at the prior: adding one per class would push every
rare template towards 1/2, far above the fault rate of a healthy system. A template present
in every slot has ``P(fault | T)`` near ``P(fault)`` (it says nothing), one present only before
incidents a posterior near 1. Presence, not counts: a template logged a thousand times in a
slot is one observation of that slot.

An incident can be taken back (:meth:`FaultBayes.retract`: it turned out not to be a fault,
e.g. it resolved by itself within a minute) for ``settle`` seconds after it opened: slots are
final ``settle`` seconds later than their horizon, so every slot it labelled is still open.

Memory is bounded: the open slots (``window / slot + 2`` of them, each a set of template ids)
and per template two counters; at most ``max_templates`` templates (least recently seen dropped).

Merges: :meth:`FaultBayes.merged` folds the counts of a template merged away into its survivor's.

Restarts: :meth:`FaultBayes.to_dict` / :meth:`FaultBayes.restore` carry the counts over a
restart of the controller; :meth:`FaultBayes.unobserved` leaves the slots it was down out of
``N`` (no incident was seen then, which is no evidence of none: counted as healthy slots they
would lower ``P(fault)``).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_SLOT = 60.0
"""A minute: a fifth of the default window, so little of a slot lies after its incident."""

DEFAULT_WINDOW = 300.0
"""Five minutes, as for the association rules: the reach of a log precursor."""

DEFAULT_MAX_TEMPLATES = 10_000
"""Ten thousand templates, two counters each."""

SMOOTHING = 2.0
"""Pseudo-slots added to each template's counts: Laplace's two (one per outcome), here shared in
the prior's proportion; a template needs a few slots of its own before it moves far from it."""

DEFAULT_MIN_SLOTS = 3
""":meth:`FaultBayes.top` ignores templates seen in fewer slots: with Laplace smoothing a
template seen once, before an incident, would otherwise rank with real precursors."""


@dataclass(frozen=True, slots=True)
class FaultScore:
    """How much a template says about a coming fault."""

    template_id: int
    posterior: float
    prior: float
    slots: int
    fault_slots: int

    @property
    def lift(self) -> float:
        """``P(fault | T) / P(fault)``: above 1 when the template makes a fault more likely."""
        return self.posterior / self.prior


class FaultBayes:
    """``P(fault | template)`` over slots labelled by the incidents that followed them."""

    def __init__(
        self,
        *,
        slot: float = DEFAULT_SLOT,
        window: float = DEFAULT_WINDOW,
        max_templates: int = DEFAULT_MAX_TEMPLATES,
        settle: float = 0.0,
    ) -> None:
        if slot <= 0 or window < 0 or settle < 0:
            raise ValueError(
                f"slot must be > 0, window and settle >= 0 (got {slot}, {window}, {settle})"
            )
        if max_templates < 1:
            raise ValueError(f"max_templates must be >= 1 (got {max_templates})")
        self.slot = slot
        self.window = window
        self.settle = settle
        self.max_templates = max_templates
        self.slots = 0
        self.fault_slots = 0
        self._counts: OrderedDict[int, list[int]] = OrderedDict()  # id -> [n_T, f_T]
        self._open: deque[tuple[int, set[int]]] = deque()  # non-empty unresolved slots
        self._incidents: deque[tuple[int, int]] = deque()  # each incident's slots [lo, hi]
        self._next: int | None = None  # the first slot not yet counted
        self._skipped: deque[tuple[int, int]] = deque()  # unobserved slot ranges [lo, hi]

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data (templates most recently seen last)."""
        return {
            "slot": self.slot,
            "window": self.window,
            "slots": self.slots,
            "fault_slots": self.fault_slots,
            "next": self._next,
            "counts": [[tid, n, f] for tid, (n, f) in self._counts.items()],
            "open": [[k, sorted(ids)] for k, ids in self._open],
            "incidents": [list(r) for r in self._incidents],
            "skipped": [list(r) for r in self._skipped],
        }

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Take the counts of :meth:`to_dict`; False (nothing taken) when they were made with
        another slot or window. Raises ValueError / TypeError / KeyError on bad data."""
        if float(data["slot"]) != self.slot or float(data["window"]) != self.window:
            return False
        counts: OrderedDict[int, list[int]] = OrderedDict(
            (int(tid), [int(n), int(f)]) for tid, n, f in data["counts"]
        )
        while len(counts) > self.max_templates:
            counts.popitem(last=False)
        self._open = deque((int(k), {int(i) for i in ids}) for k, ids in data["open"])
        self._incidents = deque((int(a), int(b)) for a, b in data["incidents"])
        self._skipped = deque((int(a), int(b)) for a, b in data["skipped"])
        self._next = None if data["next"] is None else int(data["next"])
        self.slots, self.fault_slots = int(data["slots"]), int(data["fault_slots"])
        self._counts = counts
        return True

    def unobserved(self, since: float, until: float) -> None:
        """Nothing was observed from ``since`` to ``until`` (the controller was down): the slots
        wholly inside are left out of every count."""
        lo, hi = math.floor(since / self.slot) + 1, math.floor(until / self.slot) - 1
        if hi >= lo:
            self._skipped.append((lo, hi))

    def occurrence(self, template_id: int, now: float) -> None:
        """Record a line of ``template_id`` at ``now``."""
        k = max(self._advance(now), self._next or 0)  # a late line counts in an open slot
        if self._open:
            k = max(k, self._open[-1][0])
        if not self._open or self._open[-1][0] != k:
            self._open.append((k, set()))
        self._open[-1][1].add(template_id)

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Fold the counts of each merged-away template into its survivor's (``(old, new)``
        pairs). In the open slots presence is exact (the survivor is present where either
        was); of the counted slots only the two pairs ``[n_T, f_T]`` are kept, not which slots
        they were, so the survivor takes the larger of each: a lower bound of the union's
        (exact when the two logged in the same slots, as siblings mostly do)."""
        for old, new in remapped:
            if old == new:
                continue
            for _, present in self._open:
                if old in present:
                    present.discard(old)
                    present.add(new)
            gone = self._counts.pop(old, None)
            if gone is None:
                continue
            keep = self._counts.get(new)
            if keep is None:
                self._counts[new] = gone
            else:
                keep[0], keep[1] = max(keep[0], gone[0]), max(keep[1], gone[1])

    def incident(self, subject: str, now: float) -> None:
        """Record an incident opening at ``now`` (on any ``subject``: faults are global)."""
        self._advance(now)
        self._incidents.append(self._labelled(now))

    def retract(self, now: float) -> bool:
        """Take back the incident recorded at ``now``: it was no fault. False if there is none
        (or its slots are counted already: more than ``settle`` seconds have passed)."""
        try:
            self._incidents.remove(self._labelled(now))
        except ValueError:
            return False
        return True

    def _labelled(self, now: float) -> tuple[int, int]:
        """The slots an incident at ``now`` labels as fault slots."""
        lo = math.floor((now - self.window) / self.slot)  # slots k with (k+1) slot + W > now
        hi = math.floor(now / self.slot)  # and k slot <= now
        return lo, hi

    def prior(self, now: float) -> float:
        """``P(fault)``: the smoothed fraction of fault slots."""
        self._advance(now)
        return (self.fault_slots + 1) / (self.slots + 2)

    def posterior(self, template_id: int, now: float) -> float:
        """``P(fault | template)``; the prior for a template never seen (or forgotten)."""
        self._advance(now)
        n, f = self._counts.get(template_id, (0, 0))
        return self._posterior(n, f)

    def top(self, n: int, now: float, *, min_slots: int = DEFAULT_MIN_SLOTS) -> list[FaultScore]:
        """The ``n`` templates with the highest posterior (seen in ``min_slots`` slots or more)."""
        self._advance(now)
        prior = (self.fault_slots + 1) / (self.slots + 2)
        scores = [
            FaultScore(tid, self._posterior(c[0], c[1]), prior, c[0], c[1])
            for tid, c in self._counts.items()
            if c[0] >= min_slots
        ]
        scores.sort(key=lambda s: (-s.posterior, -s.slots, s.template_id))
        return scores[:n]

    def __len__(self) -> int:
        """How many templates have counts."""
        return len(self._counts)

    def _posterior(self, n_t: int, f_t: int) -> float:
        p_fault = (self.fault_slots + 1) / (self.slots + 2)
        return (f_t + SMOOTHING * p_fault) / (n_t + SMOOTHING)

    def _advance(self, now: float) -> int:
        """Count every slot whose horizon has passed at ``now``; return ``now``'s slot."""
        k_now = math.floor(now / self.slot)
        if self._next is None:
            self._next = k_now
        # Slot k is final once (k + 1) slot + window + settle <= now: no later incident can
        # label it, and no incident labelling it can be taken back.
        end = math.floor((now - self.window - self.settle) / self.slot)  # slots < end are final
        if end <= self._next:
            return k_now
        self.slots += end - self._next - _overlap(self._skipped, self._next, end)
        self.fault_slots += self._covered(self._next, end)
        while self._open and self._open[0][0] < end:
            k, present = self._open.popleft()
            fault = self._covered(k, k + 1) > 0
            for tid in present:
                counts = self._counts.get(tid)
                if counts is None:
                    counts = self._counts[tid] = [0, 0]
                    if len(self._counts) > self.max_templates:
                        self._counts.popitem(last=False)
                else:
                    self._counts.move_to_end(tid)
                counts[0] += 1
                counts[1] += fault
        while self._incidents and self._incidents[0][1] < end:
            self._incidents.popleft()
        while self._skipped and self._skipped[0][1] < end:
            self._skipped.popleft()
        self._next = end
        return k_now

    def _covered(self, lo: int, hi: int) -> int:
        """How many slots in ``[lo, hi)`` are fault slots: in the union of incident ranges and
        observed (an incident just after a restart labels slots of the time the controller was
        down, which are in no count: counted as fault slots, ``P(fault)`` could exceed 1)."""
        count, upto = 0, lo  # slots below ``upto`` are counted already
        for a, b in sorted(self._incidents):
            a, b = max(a, upto), min(b + 1, hi)
            if a < b:
                count += b - a - _overlap(self._skipped, a, b)
                upto = b
        return count


def _overlap(ranges: deque[tuple[int, int]], lo: int, hi: int) -> int:
    """How many slots in ``[lo, hi)`` lie in the disjoint inclusive ``ranges``."""
    return sum(max(0, min(hi, b + 1) - max(lo, a)) for a, b in ranges if a < hi and b >= lo)
