"""What the span search (:func:`vigil.logs._spans.nearest`) costs a new line when many clusters
share its first word (branch perf18): the clusters whose second and last words both disagree
with the line's are not handed to :func:`span_slot`, whose answer for them is None; word pairs
are memoised only while short. Counted, not timed."""

from __future__ import annotations

import pytest

import vigil.logs._spans as spans
from vigil.logs import TemplateMiner

# Messages that open with a value (a thread name, a number): every one of them is filed under
# the first word "<*>", so a new line of that opening meets all of them in the span search.
_OPENING_WITH_A_VALUE = [
    f"{n} worker{chr(97 + n)} {verb} queue {noun} (took {n})"
    for n, (verb, noun) in enumerate(
        [
            ("drained", "alpha"),
            ("paused", "bravo"),
            ("resumed", "charlie"),
            ("flushed", "delta"),
            ("rebuilt", "echo"),
            ("sealed", "foxtrot"),
        ]
    )
]


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = spans.span_slot

    def counted(*args: object) -> object:
        calls[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(spans, "span_slot", counted)
    return calls


def test_a_new_line_agreeing_at_neither_end_calls_no_span_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    miner = TemplateMiner()
    for line in _OPENING_WITH_A_VALUE:
        miner.cluster_of(line)
    calls = _counting(monkeypatch)
    # four words, first a value: every cluster above is a candidate (its last word holds a
    # value), none agrees at the second word ("reported,") or the last one ("(none)")
    before = len(miner.clusters)
    new = miner.cluster_of("7 reported, nothing (none)")
    assert len(miner.clusters) == before + 1  # a new template, as before the change
    assert new.template == "<*> reported, nothing (none)"
    assert calls[0] == 0  # without the pre-test: one span test per cluster above (6)


def test_a_line_of_another_word_count_still_finds_its_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    miner = TemplateMiner()
    first = miner.cluster_of("9 job 'nightly' finished on node07 in 12 s")
    for line in _OPENING_WITH_A_VALUE:
        miner.cluster_of(line)
    calls = _counting(monkeypatch)
    joined = miner.cluster_of("4 job 'nightly backup' finished on node07 in 3 s")
    assert joined.id == first.id  # one quoted value of one word against two
    assert joined.template == "<*> job '<*>' finished on node07 in <*> s"
    assert calls[0] >= 1


def test_short_word_pairs_are_memoised_and_long_ones_are_not() -> None:
    spans._loosely.cache_clear()
    assert spans._agrees("ssh2", 0, "ssh1")  # the weak values masked: one word
    assert spans._loosely.cache_info().currsize == 1
    long_have, long_new = "a" * 60 + "1", "a" * 60 + "2"
    assert spans._agrees(long_have, 0, long_new)  # the same answer, computed afresh
    assert not spans._agrees("x" * 60, 0, "y" * 60)
    assert spans._loosely.cache_info().currsize == 1
