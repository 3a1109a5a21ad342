"""The analyses' ``merged((old, new))`` and :meth:`TemplateRegistry.merge`, with plain numbers:
what a template merged away leaves to its survivor (issue 4)."""

from __future__ import annotations

import pytest

from vigil.errors import InputError
from vigil.logs.analysis import AssociationMiner, BurstDetector, FaultBayes, TemplateRegistry


def test_a_merged_baseline_is_the_sum_of_both_rates_and_judges_at_once() -> None:
    bursts = BurstDetector(bucket_seconds=10, min_buckets=6)
    for b in range(10):
        bursts.observe(1, b * 10.0, count=10, source="n1/a")
        bursts.observe(2, b * 10.0 + 5, count=30, source="n1/a")
    bursts.observe(1, 100.0, count=1, source="n1/a")  # 1 ahead: 2 is a bucket behind
    bursts.merged([(2, 1)])
    assert len(bursts) == 1 and bursts.baseline(2) is None
    baseline = bursts.baseline(1)
    assert baseline is not None and baseline == pytest.approx(40.0)
    assert bursts.observe(1, 101.0, count=38, source="n1/a") is None  # 39: the rate of both
    found = bursts.observe(1, 102.0, count=100, source="n1/a")
    assert found is not None and found.template_id == 1


def test_a_merge_into_an_untracked_survivor_hands_the_baseline_on() -> None:
    bursts = BurstDetector(bucket_seconds=10, min_buckets=2)
    for b in range(5):
        bursts.observe(7, b * 10.0, count=4)
    bursts.merged([(7, 3)])
    assert bursts.baseline(7) is None and bursts.baseline(3) == pytest.approx(4.0)


def test_association_counts_add_up_and_support_is_not_inflated() -> None:
    assoc = AssociationMiner(window=60, settle=120)
    for t in range(0, 600, 10):
        assoc.occurrence(1, float(t))
        assoc.occurrence(2, float(t) + 1)
    assoc.incident("replica:x", 300.0)
    assoc.incident("replica:x", 590.0)
    followed = assoc._stats[1].followed + assoc._stats[2].followed
    assoc.merged([(2, 1)])
    assert len(assoc) == 1
    stats = assoc._stats[1]
    assert stats.lines == 120
    assert stats.preceded == 2  # both preceded both incidents: not four of two
    assert stats.followed == followed > 0
    assert assoc.retract(590.0)  # what it added is taken back from the survivor
    assert assoc._stats[1].preceded == 1


def test_bayes_open_slots_follow_the_merge_and_counts_are_not_doubled() -> None:
    bayes = FaultBayes(slot=10, window=20)
    for t in range(0, 200, 5):
        bayes.occurrence(1, float(t))
        bayes.occurrence(2, float(t))
    bayes.prior(100.0)  # the slots before 70 counted: 1 and 2 present in each
    before = bayes._counts[1][0]
    bayes.merged([(2, 1)])
    assert len(bayes) == 1 and bayes._counts[1][0] == before
    assert all(2 not in present for _, present in bayes._open)
    bayes.prior(1000.0)
    assert bayes.top(1, 1000.0)[0].slots == 20


def test_a_widening_renames_the_entry_and_the_old_text_counts_there() -> None:
    reg = TemplateRegistry()
    bob, _, _ = reg.observe("user bob", 1.0, count=3, source="n1/a")
    assert reg.merge("user bob", "user <*>") == (bob.id, bob.id)
    assert [(e.id, e.template, e.count) for e in reg.entries()] == [(bob.id, "user <*>", 3)]
    entry, created, _ = reg.observe("user bob", 2.0, source="n2/a")  # a node not widened yet
    assert (entry.id, created, entry.count) == (bob.id, False, 4)


def test_a_merge_folds_counts_times_and_sources_into_the_survivor() -> None:
    reg = TemplateRegistry()
    a, _, _ = reg.observe("t A", 1.0, count=2, source="n1/a", level="INFO")
    b, _, _ = reg.observe("t <*>", 5.0, count=3, source="n2/a", level="ERROR")
    assert reg.merge("t A", "t <*>") == (a.id, b.id)
    (only,) = reg.entries()
    assert (only.id, only.count, only.first_seen, only.last_seen) == (b.id, 5, 1.0, 5.0)
    assert only.sources == {"n1/a": 2, "n2/a": 3} and only.level == "ERROR"
    assert reg.get(a.id) is None and reg.current("t A") is only
    assert reg.merge("t A", "t <*>") is None  # told twice: nothing more


def test_aliases_survive_a_save_and_go_with_their_entry() -> None:
    reg = TemplateRegistry(max_templates=2)
    reg.observe("user bob", 1.0)
    reg.merge("user bob", "user <*>")
    back = TemplateRegistry.from_dict(reg.to_dict(), max_templates=2)
    kept = back.current("user bob")
    assert kept is not None and kept.template == "user <*>"
    back.observe("x", 2.0)
    back.observe("y", 3.0)  # evicts "user <*>": its alias goes with it
    assert back.current("user bob") is None
    assert back.observe("user bob", 4.0)[1]  # a new template again


def test_a_malformed_alias_is_named() -> None:
    data = TemplateRegistry().to_dict() | {"aliases": [["user bob"]]}
    with pytest.raises(InputError, match=r"templates.aliases\[0\]"):
        TemplateRegistry.from_dict(data)
