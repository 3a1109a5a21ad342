"""Values joined by commas with no space are one value, a list (branch unseen17).

Kafka's ``Shrinking ISR from 1,2,3 to 1,2`` and Lightning's ``CUDA_VISIBLE_DEVICES: [0,1,2,3]``:
the labels (fixtures/kafka, holdout15/lightning) write one ``<*>``; Open MPI's nested
``[[1234,1],0]`` keeps its parts, as its labels do.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("Shrinking ISR from 1,2,3 to 1,2. Leader", "Shrinking ISR from <*> to <*>. Leader"),
        ("CUDA_VISIBLE_DEVICES: [0,1,2,3]", "CUDA_VISIBLE_DEVICES: [<*>]"),
        ("hosts 10.0.0.1,10.0.0.2 up", "hosts <*> up"),
    ],
)
def test_values_joined_by_commas_are_one_list(line: str, masked: str) -> None:
    assert mask(line) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("received [[1234,1],0] x", "received [[<*>,<*>],<*>] x"),  # nested: job and rank
        ("at (3,4) x", "at (<*>,<*>) x"),  # coordinates in parentheses
        ("x=1,2 y", "x=<*>,<*> y"),  # after a key
        ("methods 1,fork,2 y", "methods <*>,fork,<*> y"),  # a word among them: not a list
    ],
)
def test_other_comma_joined_values_keep_their_parts(line: str, masked: str) -> None:
    assert mask(line) == masked


def test_two_lists_of_different_lengths_are_one_template() -> None:
    miner = TemplateMiner()
    a = miner.cluster_of("Shrinking ISR from 1,2,3 to 1,2. Leader: (highWatermark: 12)")
    b = miner.cluster_of("Shrinking ISR from 2,3 to 2. Leader: (highWatermark: 40)")
    assert a.id == b.id
    assert b.template == "Shrinking ISR from <*> to <*>. Leader: (highWatermark: <*>)"
