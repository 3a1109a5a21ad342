"""A small accuracy regression test on Loghub-2k files, with one configuration for all."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from vigil.logs import LogFormat, TemplateMiner

_REPO = Path(__file__).resolve().parents[2]
DATA = next(
    (
        p
        for p in (_REPO.parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)


def grouping_accuracy(truth: list[str], predicted: list[int]) -> float:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        groups[t].append(i)
    size = Counter(predicted)
    ok = 0
    for idx in groups.values():
        ids = {predicted[i] for i in idx}
        if len(ids) == 1 and size[next(iter(ids))] == len(idx):
            ok += len(idx)
    return ok / len(truth)


@pytest.mark.skipif(DATA is None, reason="Loghub data not found beside the repository")
@pytest.mark.parametrize("name", ["HDFS", "OpenSSH", "BGL", "Linux"])
def test_raw_lines_without_a_format_group_like_the_ground_truth(name: str) -> None:
    assert DATA is not None
    folder = DATA / name
    with (folder / f"{name}_2k.log_structured.csv").open(newline="", encoding="utf-8") as f:
        truth = [row["EventTemplate"] for row in csv.DictReader(f)]
    raw = (folder / f"{name}_2k.log").read_text(encoding="utf-8").splitlines()
    fmt, miner = LogFormat(), TemplateMiner()
    predicted = [miner.add(fmt.split(line).content).cluster_id for line in raw]
    assert grouping_accuracy(truth, predicted) >= 0.97
