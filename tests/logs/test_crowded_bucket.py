"""One crowded bucket: lines that share their first word and length but are otherwise new.

Before branch ``cliff`` each such line was compared with every cluster of the bucket (410 lines
per second with 2,000 of them); now a crowded bucket offers a bounded list of candidates
(:meth:`vigil.logs._crowded.WordsIndex.candidates`): its oldest and newest clusters and those whose
words are the line's. The work is counted in comparisons, not timed.
"""

from __future__ import annotations

import random

import pytest

import vigil.logs._miner as miner_module
from vigil.logs import LogFormat, TemplateMiner, dumps, loads
from vigil.logs._crowded import CROWDED_BUCKET, CROWDED_SECOND
from vigil.logs._parser import LineParser

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "po", "da", "fe"]


def _word(rnd: random.Random) -> str:
    return "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))


def _novel(rnd: random.Random) -> str:
    """A line of the crowded stream: one first word, seven words, the rest new."""
    return " ".join(["handler", *(_word(rnd) for _ in range(5)), f"id={rnd.randint(1, 9999)}"])


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = miner_module._cost

    def cost(cluster: object, words: list[str]) -> object:
        calls[0] += 1
        return real(cluster, words)  # type: ignore[arg-type]

    monkeypatch.setattr(miner_module, "_cost", cost)
    return calls


def test_a_new_line_in_a_crowded_bucket_is_compared_with_a_bounded_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rnd = random.Random(1)
    miner = TemplateMiner()
    for _ in range(2_000):
        miner.add(_novel(rnd))
    assert len(miner.clusters) == 2_000  # all in one bucket, none merged
    calls = _counted(monkeypatch)
    for _ in range(50):
        assert miner.add(_novel(rnd)).created
    assert calls[0] <= 50 * (CROWDED_BUCKET + CROWDED_SECOND + 1)


def test_a_line_of_an_old_template_in_a_crowded_bucket_finds_its_cluster() -> None:
    rnd = random.Random(2)
    miner = TemplateMiner()
    lines = [_novel(rnd) for _ in range(1_000)]
    ids = [miner.add(line).cluster_id for line in lines]
    # a restart forgets every cache: the line is found by its words, not by a cached signature
    loaded = loads(dumps(miner))
    for i in (17, 400, 731):
        again = lines[i].rsplit("=", 1)[0] + "=4242"
        assert loaded.add(again).cluster_id == ids[i]
        assert miner.add(again).cluster_id == ids[i]
    assert len(loaded.clusters) == len(miner.clusters) == 1_000


def test_a_widened_template_in_a_crowded_bucket_takes_its_lines() -> None:
    rnd = random.Random(3)
    miner = TemplateMiner()
    for _ in range(300):
        miner.add(_novel(rnd))
    first = miner.add("handler session opened for user alice now")
    widened = miner.add("handler session opened for user bob now")
    assert widened.cluster_id == first.cluster_id
    assert widened.template == "handler session opened for user <*> now"
    for _ in range(300):
        miner.add(_novel(rnd))
    # old and neither oldest nor newest now: found through the words index after a restart
    loaded = loads(dumps(miner))
    line = "handler session opened for user <*> now"
    assert loaded.add(line).cluster_id == first.cluster_id
    # a new user: not the template's words, found by the second word ("session")
    for m in (miner, loaded):
        assert m.add("handler session opened for user carol now").cluster_id == first.cluster_id


def _stream(seed: int, n: int, late: int = 30) -> list[str]:
    """Novel lines, lines of earlier templates with other numbers, and a user that varies
    (from line ``late`` on: a template neither among the bucket's oldest nor its newest)."""
    rnd = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        pick = rnd.random()
        if pick < 0.6 or len(out) < late or not out:
            out.append(_novel(rnd))
        elif pick < 0.8:
            out.append(rnd.choice(out).rsplit("=", 1)[0] + f"={rnd.randint(1, 9999)}")
        else:
            verb = rnd.choice(["opened", "closed", "renewed"])
            user = rnd.choice(["alice", "bob", "carol", "dave", "erin", "frank"])
            out.append(f"handler session {verb} for user {user} now")
    return out


@pytest.mark.parametrize("max_clusters", [50_000, 500])
def test_a_saved_and_loaded_crowded_miner_answers_as_one_uninterrupted_run(
    max_clusters: int,
) -> None:
    lines = _stream(5, 2_500)
    whole = TemplateMiner(max_clusters=max_clusters)
    expected = [(m.cluster_id, m.template) for m in map(whole.add, lines)]
    miner = TemplateMiner(max_clusters=max_clusters)
    got = []
    for i, line in enumerate(lines):
        if i % 97 == 50:  # restarts before, at and after the bucket becomes crowded
            miner = loads(dumps(miner))
        m = miner.add(line)
        got.append((m.cluster_id, m.template))
    assert got == expected
    assert dumps(miner) == dumps(whole)


def test_the_line_parser_after_a_restart_answers_as_one_uninterrupted_run() -> None:
    """The CLI's path: raw lines with a header, the parser's line cache in front of the miner
    (dropped when a bucket becomes crowded, as the miner's own caches are)."""
    lines = [
        f"2026-11-30 10:{i // 60 % 60:02d}:{i % 60:02d} INFO {msg}"
        for i, msg in enumerate(_stream(6, 1_500))
    ]
    whole = LineParser(LogFormat(), TemplateMiner())
    expected = [(c.id, p + c.template) for c, p in map(whole.parse, lines)]
    parser = LineParser(LogFormat(), TemplateMiner())
    got = []
    for i, line in enumerate(lines):
        if i in (40, 900):
            parser = LineParser(LogFormat(), loads(dumps(parser.miner)))
        cluster, prefix = parser.parse(line)
        got.append((cluster.id, prefix + cluster.template))
    assert got == expected
    assert len(whole.miner.clusters) > CROWDED_BUCKET


def test_a_line_of_an_uncrowded_bucket_is_still_cached_after_a_crowded_one() -> None:
    rnd = random.Random(7)
    miner = TemplateMiner()
    for _ in range(CROWDED_BUCKET + 5):
        miner.add(_novel(rnd))
    miner.add("worker 7 finished batch")  # another bucket: its signature is remembered
    assert not miner.shaped(_novel(rnd))[1]  # a crowded line: not cached
    # the same signature, a new shape: found by its signature, and cached by shape
    assert miner.shaped("worker 77 finished batch")[1]


def test_a_widened_template_among_many_with_its_second_word_takes_a_new_value() -> None:
    # 200 templates under one first word, 20 a second word: a line of an old one with a new
    # user was compared with none of its own (not its words: widened; not among the newest
    # 16 with its second word) and started a new cluster (bench/crowded_accuracy.py)
    rnd = random.Random(8)
    verbs = [_word(rnd) + "ed" for _ in range(10)]
    templates = []
    for _ in range(200):
        words = ["handler", rnd.choice(verbs), *(_word(rnd) + "x" for _ in range(4))]
        templates.append(words)
    miner = TemplateMiner()
    ids = []
    for words in templates:  # three users each: widened at the user's place
        got = {miner.add(" ".join([*words, user])).cluster_id for user in ("ann", "bo", "cy")}
        ids.append(miner.resolve(min(got)))
    assert len(miner.clusters) == 200
    for i in rnd.sample(range(200), 40):
        assert miner.add(" ".join([*templates[i], "dee"])).cluster_id == ids[i]
    assert len(miner.clusters) == 200
    loaded = loads(dumps(miner))  # the same answers after a restart
    for i in rnd.sample(range(200), 40):
        assert loaded.add(" ".join([*templates[i], "eve"])).cluster_id == ids[i]
