"""Each line's answer held back for a few lines, so that a merge those lines bring is in it.

Used by ``vigil logs parse`` (:mod:`vigil.cli._logs`) and by the streaming score of the
fixtures (``tests/logs/test_fixtures.py --stream``). Pure: it counts lines, not time; the CLI
decides when input is idle and calls :meth:`Holdback.release` then.

Why: the miner merges two clusters when a later line shows that they are one event (the
sibling rule's third value in a slot: ``Starting provider *file.Provider``,
``*traefik.Provider``, then ``*docker.Provider``). A line printed before that merge keeps the
id merged away, and its whole true group is split in the output (grouping accuracy counts a
group right only when all its lines carry one id). In the 162 labelled fixtures every such
split is a cluster made for a slot's second value and merged at its third; five of the eight
merges came with the very next line (a program listing its providers, components or
adapters one after the other), the others 4, 6 and 11 lines later.

The answer for line ``i`` is released once line ``i + lines`` has been mined, with its
cluster's id followed through the merges made up to that line (in order: a merge of a later
line is never applied), and with the template of the line that made the last of those merges
(its survivor's template then), else its own. So the output depends on the input and
``lines`` only, not on how the input was cut into reads; :meth:`release` (idle input, end of
input) lets the held answers out early, as of the lines mined so far.
"""

from __future__ import annotations

from vigil.logs._cluster import Cluster
from vigil.logs._miner import TemplateMiner

HOLD_LINES = 4
"""Lines an answer waits for by default. Zero prints each line as of itself. In the fixtures
(``tests/logs/test_fixtures.py --stream``) 1 line gains five of the eight split groups, 4
lines six, 6 seven, 11 all; more than a few lines would hold most of a short log until its
end, so the default stays small (``docs/benchmarks.md``, "Ids as lines arrive")."""

Answer = tuple[Cluster, str, str]
"""One line's answer: its cluster, masked header, template. In: as the parser gives it (the
cluster as of the line); out: the cluster it was merged into by the held lines, if any."""


class Holdback:
    """Answers of consecutive lines in, the same answers out ``lines`` lines later, in order.

    Switches on the miner's record of merges (:attr:`TemplateMiner.folds`), which it empties
    on each :meth:`push`; every line the miner mines must be pushed, in order. Memory: the held
    answers and the merges of their lines. An answer no merge touched goes out as it came in
    (no copy: the CLI's loop pays a list slice per read, not work per line).
    """

    def __init__(self, miner: TemplateMiner, lines: int = HOLD_LINES) -> None:
        if lines < 0:
            raise ValueError(f"lines: must be >= 0 (got {lines})")
        self.miner = miner
        self.lines = lines
        miner.folds = []
        self._held: list[Answer] = []
        self._first = miner.lines + 1  # the line number of _held[0]
        # gone id -> (line of the merge, survivor, template of that line's answer)
        self._merges: dict[int, tuple[int, Cluster, str]] = {}

    @property
    def held(self) -> int:
        """How many answers are waiting."""
        return len(self._held)

    def push(self, answers: list[Answer]) -> list[Answer]:
        """Take the answers of the lines just mined (the last ``len(answers)`` of the miner's
        lines, in order); return those now ``lines`` lines old, in order."""
        miner = self.miner
        last = miner.lines
        self._first = last - len(answers) - len(self._held) + 1
        self._held += answers
        folds = miner.folds
        if folds:
            first = last - len(answers) + 1
            for at, gone, survivor in folds:
                # the line that merged: its answer holds the survivor's template then (a line
                # mined without push, not the CLI's way: the template now)
                template = answers[at - first][2] if at >= first else survivor.template
                self._merges[gone.id] = (at, survivor, template)
            folds.clear()
        return self._take(last - self.lines, last)

    def release(self) -> list[Answer]:
        """Every held answer, as of the lines mined so far (idle input, end of input)."""
        return self._take(self.miner.lines, self.miner.lines)

    def _take(self, upto: int, last: int) -> list[Answer]:
        """The held answers of lines up to ``upto``, each with the merges of the ``lines``
        lines after it (``last`` at most) applied."""
        held, first = self._held, self._first
        count = min(len(held), upto - first + 1)
        if count <= 0:
            return []
        taken, self._held = held[:count], held[count:]
        self._first = first + count
        merges = self._merges
        if not merges:
            return taken
        reach = self.lines
        for n, (cluster, prefix, _) in enumerate(taken, first):
            step = merges.get(cluster.id)
            if step is None:
                continue
            limit = min(n + reach, last)
            while step is not None and step[0] <= limit:
                cluster, template = step[1], step[2]
                step = merges.get(cluster.id)
            if cluster is not taken[n - first][0]:
                taken[n - first] = (cluster, prefix, template)
        # a merge matters only to answers of the lines before it: forget those no answer needs
        self._merges = {g: m for g, m in merges.items() if m[0] > self._first}
        return taken
