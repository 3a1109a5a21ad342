"""Grouping rules of the one-word-values round (branch onewords): where one word of a message
is a value the miner kept apart from its other values, or the reverse."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_a_weak_name_opening_a_message_meets_the_masked_ones() -> None:
    # "device1:" keeps its digit until a second value shows up; "spine1_v4:" is masked at
    # once: both are the instance a message is about, one cluster
    miner, ids = _ids(
        [
            "device1: State changed to up",
            "kernel4: State changed to up",
            "spine1_v4: State changed to up",
        ]
    )
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "<*>: State changed to up"
