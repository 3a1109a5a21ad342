"""The nearby-bucket search reads an index (branch multiword2): the clusters of a first word by
the shapes of their second and last words (:mod:`vigil.logs._nearby`). It must offer every
cluster the full scan of up to sixteen buckets would have passed to the rule, so the ids and
templates are those of the full scan, and it must offer few others: counted in comparisons,
not timed."""

from __future__ import annotations

import random

import pytest

from vigil.logs import TemplateMiner, _spans, dumps, loads

_VOCAB = [f"{a}{b}" for a in "bcdfghklmnp" for b in ("ank", "ello", "ist", "orn")]
_QUOTED = ["'NFS'", "'GPU Temp'", "'Disk Usage Root'", "'ib0'", "'Wired connection 1'"]


def _stream(seed: int, n: int) -> list[str]:
    """Lines of many word counts under two first words: new templates, framed values of one
    word against several (quoted, ``attr=``), numbers in the second or last place (a shape
    shared), values already ``<*>`` there, each line maybe repeated with another value."""
    rng = random.Random(seed)
    templates = []
    for _ in range(n // 4):
        first = rng.choice(["worker", "service"])
        words = rng.sample(_VOCAB, rng.randint(3, 9))
        place = rng.randrange(1, len(words))
        templates.append((first, words, place))
    out = []
    for _ in range(n):
        first, words, place = rng.choice(templates)
        line = [first, *words]
        kind = rng.randrange(4)
        if kind == 0:
            line.insert(place, rng.choice(_QUOTED))
        elif kind == 1:
            line.insert(place, "attr=" + " ".join(rng.sample(_VOCAB, rng.randint(1, 3))))
        elif kind == 2:
            line[1] = f"{line[1]}{rng.randrange(100)}"
        else:
            line[-1] = f"id-{rng.randrange(10)}x{rng.randrange(3)}"
        out.append(" ".join(line))
    return out


def _full_scan(buckets, key, words, crowded, index, alive):  # type: ignore[no-untyped-def]
    """What the search scanned before the index: every cluster of the buckets of the line's
    first word and up to MAX_EXTRA_WORDS other word counts, none crowded."""
    del words, index, alive
    n, first = key
    for m in range(max(3, n - _spans.MAX_EXTRA_WORDS), n + _spans.MAX_EXTRA_WORDS + 1):
        other = buckets.get((m, first)) if m != n else None
        if other and len(other) <= crowded:
            yield from other


def _run(lines: list[str], miner: TemplateMiner) -> list[tuple[int, str]]:
    out = []
    for line in lines:
        cluster = miner.cluster_of(line)
        out.append((cluster.id, cluster.template))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_finds_what_the_full_scan_finds(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _stream(seed, 1200)
    # a small bound: evictions rebuild the index while the stream runs
    indexed = _run(lines, TemplateMiner(max_clusters=120))
    monkeypatch.setattr(_spans, "_candidates", _full_scan)
    scanned = _run(lines, TemplateMiner(max_clusters=120))
    assert indexed == scanned
    assert len({t for _, t in indexed if "'<*>'" in t or "attr=<*>" in t}) > 3  # the rule ran


def test_a_loaded_miner_searches_as_the_one_that_saved_it() -> None:
    lines = _stream(4, 1000)
    whole = TemplateMiner()
    first = _run(lines[:500], whole)
    again = loads(dumps(whole))
    assert _run(lines[500:], again) == _run(lines[500:], whole)
    assert first  # (the first half went through the index of the miner that saved it)


def _offered(lines: list[str], monkeypatch: pytest.MonkeyPatch, scan: bool) -> tuple[int, int]:
    """(clusters offered to the cheap test, clusters the rule was tried on) over ``lines``."""
    offered, tried = [0], [0]
    source = _full_scan if scan else _spans._candidates
    real = _spans.span_slot

    def candidates(*args, **kwargs):  # type: ignore[no-untyped-def]
        for cand in source(*args, **kwargs):
            offered[0] += 1
            yield cand

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        tried[0] += 1
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(_spans, "_candidates", candidates)
        m.setattr(_spans, "span_slot", counted)
        miner = TemplateMiner()
        for line in lines:
            miner.cluster_of(line)
    assert len(miner.clusters) == len(lines)  # all new: every line searched
    return offered[0], tried[0]


def test_the_search_offers_a_new_line_few_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    # bench/multiword_cost.py's worst case: every line a new template under one first word,
    # many word counts, each bucket near crowded; counted, not timed
    rng = random.Random(7)
    vocab = [f"{a}{b}" for a in "bcdfghklmnprstvz" for b in ("ank", "ello", "ist", "orn", "ux")]
    lines = [" ".join(["worker", *rng.sample(vocab, rng.randint(3, 23))]) for _ in range(800)]
    index_offered, index_tried = _offered(lines, monkeypatch, scan=False)
    scan_offered, scan_tried = _offered(lines, monkeypatch, scan=True)
    assert index_tried == scan_tried  # the same clusters pass the cheap test
    assert index_offered * 10 < scan_offered  # but far fewer are looked at


def test_a_cluster_widened_at_both_ends_is_found_under_its_new_words() -> None:
    # filed first under "user=alice" / "node=east"; widened to "user=<*>" / "node=<*>" by the
    # second line, it must be filed again, or the third line (another word count, neither
    # end's shape the first line's) never meets it
    miner = TemplateMiner()
    ids = [
        miner.cluster_of(line).id
        for line in [
            "worker user=alice sent 'NFS' to node=east",
            "worker user=bob sent 'NFS' to node=west",
            "worker user=carol sent 'GPU Temp' to node=north",
        ]
    ]
    assert ids == [ids[0]] * 3
    assert miner.clusters[ids[0]].template == "worker user=<*> sent '<*>' to node=<*>"
