"""The shape caches (digits as ``0``) give exactly the answers of the uncached path."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from vigil.logs import LineSplitter, LogFormat, TemplateMiner
from vigil.logs._parser import LineParser
from vigil.logs._shape import has_digit, shape_key

_REPO = Path(__file__).resolve().parents[2]
DATA = next(
    (
        p
        for p in (_REPO.parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)

LINES = [
    "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 1.2.3.4 port 22 ssh2",
    "Dec 10 06:55:47 LabSZ sshd[24201]: Failed password for root from 1.2.3.5 port 2 ssh3",
    "Dec 10 06:55:48 LabSZ sshd[4201]: Failed password for root from 1.2.3.5 port 222 ssh2",
    "2024-05-01 12:00:00 INFO: worker 7 started in 35 ms on node12",
    "2024-05-01 12:00:01 INFO: worker 8 started in 5 ms on node13",
    "2024-05-01 12:00:02 INFO: worker 9 started in 5 ms on node13",
    "id deadbee1 done",
    "id deadbee12 done",
    "id deadbe1 done",
    "mac 00:11:22:33:44:55 up",
    "mac 0:11:22:33:44:55 up",
    '{"msg": "job 12 done", "level": "info"}',
    '{"msg": "job 01 done", "level": 01}',
]


def _redrawn(lines: list[str], seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [re.sub(r"\d+", lambda m: str(rnd.randrange(10 ** len(m.group()))), x) for x in lines]


def _uncached(lines: list[str]) -> list[tuple[int, str]]:
    fmt, miner = LogFormat(), TemplateMiner()
    out = []
    for line in lines:
        miner._shapes.clear()
        miner._exact.clear()
        miner._masks.words.clear()
        split = fmt.split(line)
        cluster = miner.cluster_of(split.content)
        out.append((cluster.id, split.prefix + cluster.template))
    return out


def _cached(lines: list[str]) -> list[tuple[int, str]]:
    parser = LineParser()
    out = []
    for line in lines:  # one at a time: a template is read before later lines widen it
        ((cluster, prefix, template),) = parser.parse_many([line])
        out.append((cluster.id, prefix + template))
    return out


def test_shape_keeps_lengths_and_marks_only_digits() -> None:
    assert shape_key("a1 b22 é3") == "a0 b00 é0".encode()
    assert has_digit("ssh2") and not has_digit("<*> ssh")


def test_cached_answers_equal_uncached_ones_on_lines_that_differ_in_digits() -> None:
    lines = LINES + _redrawn(LINES, 1) + LINES + _redrawn(LINES, 2)
    assert _cached(lines) == _uncached(lines)


@pytest.mark.skipif(DATA is None, reason="Loghub data not found beside the repository")
@pytest.mark.parametrize("name", ["OpenSSH", "BGL", "Linux"])
def test_cached_answers_equal_uncached_ones_on_loghub_lines(name: str) -> None:
    assert DATA is not None
    raw = (DATA / name / f"{name}_2k.log").read_text(encoding="utf-8").splitlines()[:600]
    lines = raw + _redrawn(raw, 3)
    assert _cached(lines) == _uncached(lines)


def test_the_clean_chunk_fast_path_splits_like_the_careful_path() -> None:
    data = b"a 1\n\n  \nb\tc 2\nlong " + b"y" * 50 + b"\nrest"
    whole = LineSplitter(max_bytes=30)
    fast = [*whole.feed(data), *whole.close()]
    bytewise = LineSplitter(max_bytes=30)
    slow = [line for i in range(len(data)) for line in bytewise.feed(data[i : i + 1])]
    slow += list(bytewise.close())
    assert fast == slow
    assert whole.stats == bytewise.stats
    assert whole.stats.empty == 2 and whole.stats.truncated == 1


def test_a_cached_line_of_a_merged_cluster_gets_the_survivor() -> None:
    parser = LineParser()
    lines = [
        "open session for alpha from paris",
        "open session for beta from tokyo",
        "open session for alpha from tokyo",
        "open session for gamma from paris",  # merges the beta cluster into the alpha one
    ]
    ids = [c.id for c, _ in (parser.parse(line) for line in lines)]
    assert ids[1] != ids[0] and ids[3] == ids[0]
    again, _ = parser.parse("open session for beta from tokyo")
    assert again.id == ids[0] and again.id in parser.miner.clusters
