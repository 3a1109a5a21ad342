"""Save, load, go on: the same ids, templates and state as one uninterrupted run.

The contract of :func:`vigil.logs.dumps` / :func:`vigil.logs.loads` (issue 4: "state saved and
loaded so ids survive restarts"), checked as a property over every fixture file and the six
Loghub sets: parse part of a file, save, load into a new miner, parse the rest, and compare
each line's answer and the final state with a run that never stopped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.logs import LineSplitter, LogFormat, TemplateMiner, dumps, loads
from vigil.logs._parser import LineParser

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
FIXTURES = _HERE / "fixtures"
LOGHUB = next(
    (
        p
        for p in (_REPO.parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)
TSV = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.tsv"))
SETS = sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()) if LOGHUB is not None else []


def _lines(data: bytes) -> list[str]:
    splitter = LineSplitter()
    return [*splitter.feed(data), *splitter.close()]


def _run(
    lines: list[str], cuts: tuple[int, ...] = ()
) -> tuple[list[tuple[int, str]], TemplateMiner]:
    """Each line's (id, printed template); the miner saved and loaded before each cut, and a
    new format made, as a restarted ``vigil logs parse --state`` does."""
    parser = LineParser(LogFormat(), TemplateMiner())
    out = []
    for i, line in enumerate(lines):
        if i in cuts:
            parser = LineParser(LogFormat(), loads(dumps(parser.miner)))
        cluster, prefix = parser.parse(line)
        out.append((cluster.id, prefix + cluster.template))
    return out, parser.miner


def _state(miner: TemplateMiner) -> tuple[object, ...]:
    """Everything the miner keeps that decides later answers, caches aside."""
    buckets = {key: [c.id for c in group] for key, group in miner._buckets.items() if group}
    return dumps(miner), buckets


def _check(lines: list[str]) -> None:
    whole, one = _run(lines)
    for cuts in ((len(lines) // 2,), (len(lines) // 3, 2 * len(lines) // 3)):
        parts, many = _run(lines, cuts)
        diff = next((i for i, (a, b) in enumerate(zip(whole, parts, strict=True)) if a != b), None)
        assert diff is None, (cuts, diff, lines[diff], whole[diff], parts[diff])
        assert _state(many) == _state(one), cuts


@pytest.mark.parametrize("name", TSV)
def test_a_restart_on_a_fixture_gives_the_answers_of_one_run(name: str) -> None:
    rows = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    _check([row.split("\t", 1)[1] for row in rows if "\t" in row])


@pytest.mark.skipif(LOGHUB is None, reason="the shared Loghub data is not here")
@pytest.mark.parametrize("name", SETS)
def test_a_restart_on_a_loghub_set_gives_the_answers_of_one_run(name: str) -> None:
    assert LOGHUB is not None
    (path,) = (LOGHUB / name).glob("*_2k.log")
    _check(_lines(path.read_bytes()))


def test_a_cluster_whose_opening_word_widened_is_found_again_after_a_restart() -> None:
    """``(root) CMD`` and ``(mlops) CMD`` make ``(<*>) CMD``; the cluster was filed under the
    opening subject, and must be found there again after loading, not under ``(<*>)``."""
    miner = TemplateMiner()
    first = miner.add("(root) CMD (/usr/local/bin/backup.sh --full)").cluster_id
    assert miner.add("(mlops) CMD (/opt/bin/rotate-logs)").cluster_id == first
    back = loads(dumps(miner))
    assert back.add("(alice) CMD (/opt/bin/rotate-logs)").cluster_id == first
    assert len(back.clusters) == 1


def test_a_cluster_whose_opening_word_widened_is_found_again_after_an_eviction() -> None:
    """Eviction drops the least recently seen clusters; the others stay where they were filed."""
    miner = TemplateMiner(max_clusters=4)
    for word in ("alpha", "beta", "gamma"):
        miner.add(f"{word} done")
    first = miner.add("(root) CMD (/usr/local/bin/backup.sh --full)").cluster_id
    assert miner.add("(mlops) CMD (/opt/bin/rotate-logs)").cluster_id == first
    miner.add("delta done")  # a fifth event: "alpha done", seen least recently, is evicted
    assert len(miner.clusters) == 4
    assert miner.add("(alice) CMD (/opt/bin/rotate-logs)").cluster_id == first


def test_a_word_widened_in_part_stays_as_it_is_for_a_value_it_covers_after_a_restart() -> None:
    """``[a|task-0|offsets]`` and ``[b|task-0|offsets]`` make ``[<*>|task-0|offsets]``. The
    next ``[b|...]`` line reached the cluster by the masked-line cache in one run and was
    compared afresh after a restart, which loosened the word again to ``[<*>|<*>|offsets]``:
    the same line, two templates. A word the template already covers changes nothing."""
    lines = [
        "[pg-orders-source|task-0|offsets] Committing offsets for 1240 acknowledged messages",
        "[mysql-users-source|task-0|offsets] Committing offsets for 18 acknowledged messages",
        "[pg-orders-source|task-0|offsets] Committing offsets for 977 acknowledged messages",
        "[mysql-users-source|task-0|offsets] Committing offsets for 3 acknowledged messages",
    ]
    whole = TemplateMiner()
    answers = [whole.add(line) for line in lines]
    restarted = TemplateMiner()
    for line in lines[:3]:
        restarted.add(line)
    last = loads(dumps(restarted)).add(lines[3])
    want = "[<*>|task-0|offsets] Committing offsets for <*> acknowledged messages"
    assert answers[-1].template == want
    assert (last.cluster_id, last.template) == (answers[-1].cluster_id, want)
