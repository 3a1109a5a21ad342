"""The clusters of a crowded bucket that hold the most of a line's plain words: candidates the
template miner adds for a line in a bucket of more than ``CROWDED_BUCKET`` clusters.

Called by :meth:`vigil.logs._crowded.WordsIndex.candidates`, which keeps
the index (each crowded cluster under each plain word after its first, by id; rebuilt on load,
so a loaded miner answers as the one that saved it). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vigil.logs._cluster import Cluster
from vigil.logs._tokens import WILDCARD

CROWDED_SHARING = 8
"""At most this many more candidates: the clusters holding the most of the line's plain words.
Before them, a line of a template widened where the line has a new value (a user name: its
words are no longer the line's), in a bucket whose templates also share its second word, was
compared with none of its own and started a new cluster: 500 templates under one first word
and 20 second words, GA after merges 0.025 (5,388 clusters), 1.000 with them; 2,000
templates, 0.002 (37,748 clusters), 1.000 (``bench/crowded_accuracy.py``)."""

CROWDED_WORD = 32
"""The newest holders of one word that are counted: a word more templates hold than this is
common and tells them apart no more (and reading it stays bounded). With 8, the 2,000-template
stream above reached GA 0.950 (2,115 clusters): a template of short, common words lost its
votes."""

WordIndex = Mapping[tuple[tuple[int, str], str], Sequence[Cluster]]
"""(bucket key, plain word) -> the clusters filed under it, by id; stale entries (a cluster
widened or merged since) are skipped here."""


def sharing(
    index: WordIndex, key: tuple[int, str], words: list[str], alive: Mapping[int, Cluster]
) -> list[Cluster]:
    """The :data:`CROWDED_SHARING` live clusters of bucket ``key`` holding the most of
    ``words`` (after the first), ties to the newest; each word counts its newest
    :data:`CROWDED_WORD` holders only."""
    votes: dict[int, int] = {}
    for word in set(words[1:]):
        if WILDCARD in word:
            continue
        holders: set[int] = set()
        for hit in reversed(index.get((key, word), ())):
            if hit.id not in holders and alive.get(hit.id) is hit and word in hit.words:
                holders.add(hit.id)
                votes[hit.id] = votes.get(hit.id, 0) + 1
                if len(holders) == CROWDED_WORD:
                    break
    best = sorted(votes, key=lambda cid: (-votes[cid], -cid))[:CROWDED_SHARING]
    return [alive[cid] for cid in best]
