"""Taking an incident back (it was no fault): association rules and P(fault | template) end as
if it had never come, within the ``settle`` time, and not after."""

from __future__ import annotations

from vigil.logs.analysis import AssociationMiner, FaultBayes

HOUR = 3600.0


def life(miner: AssociationMiner, bayes: FaultBayes, hours: int, *, retract: bool) -> None:
    """Noise (1) every minute; each hour template 2 before an incident that is kept, and
    template 3 before one that is taken back a minute later."""
    for hour in range(hours):
        for minute in range(60):
            now = hour * HOUR + minute * 60
            miner.occurrence(1, now)
            bayes.occurrence(1, now)
            if minute in (10, 40):
                tid = 2 if minute == 10 else 3
                miner.occurrence(tid, now + 1)
                bayes.occurrence(tid, now + 1)
                miner.incident(f"replica:{tid}", now + 31)
                bayes.incident(f"replica:{tid}", now + 31)
            if retract and minute == 41:
                assert miner.retract(now - 29) and bayes.retract(now - 29)


def test_a_retracted_incident_gives_its_precursor_no_fault_and_no_rule() -> None:
    miner, bayes = AssociationMiner(window=300, settle=120), FaultBayes(window=300, settle=120)
    life(miner, bayes, 12, retract=True)
    end = 12 * HOUR + HOUR
    assert miner.incidents == 12
    assert [r.template_id for r in miner.rules(end, min_lift=2)] == [2]
    assert bayes.posterior(2, end) > 0.6
    assert bayes.posterior(3, end) < bayes.prior(end) * 1.2  # no more a precursor than noise
    # the same life without taking them back: template 3 looks like a precursor too
    miner, bayes = AssociationMiner(window=300, settle=120), FaultBayes(window=300, settle=120)
    life(miner, bayes, 12, retract=False)
    assert {r.template_id for r in miner.rules(end, min_lift=2)} == {2, 3}
    assert bayes.posterior(3, end) > 0.5


def test_an_incident_cannot_be_taken_back_after_the_settle_time_or_twice() -> None:
    miner, bayes = AssociationMiner(window=300, settle=120), FaultBayes(window=300, settle=120)
    miner.incident("a", 1000.0)
    bayes.incident("a", 1000.0)
    assert miner.retract(1000.0) and bayes.retract(1000.0)
    assert not miner.retract(1000.0) and not bayes.retract(1000.0)
    miner.incident("a", 2000.0)
    miner.incident("a", 2200.0)  # a later incident: the first is past its settle time
    assert not miner.retract(2000.0)
    assert miner.incidents == 2


def test_an_incident_taken_back_leaves_the_covered_time_of_the_others_whole() -> None:
    """The covered time (the union of the windows before incidents, the base rate's numerator)
    is counted from the latest incident; taken back, an incident must stop being the latest.
    It stayed: an incident within W after it added only the time after it (100 s, not 300),
    for good, and a base rate just after it counted its window as observed but not covered."""
    taken = AssociationMiner(window=300, settle=120)
    never = AssociationMiner(window=300, settle=120)
    for miner in (taken, never):
        miner.occurrence(1, 0.0)
        miner.incident("a", HOUR)
    taken.incident("a", 2 * HOUR)
    assert taken.retract(2 * HOUR)
    assert taken.base_rate(2 * HOUR + 100) == never.base_rate(2 * HOUR + 100)
    for miner in (taken, never):
        miner.incident("a", 2 * HOUR + 100)
    assert taken.base_rate(10 * HOUR) == never.base_rate(10 * HOUR) == 600.0 / (10 * HOUR - 300)
    # taken back while a later one has come: the later one's window is counted whole again
    late = AssociationMiner(window=300, settle=120)
    late.occurrence(1, 0.0)
    late.incident("a", HOUR)
    late.incident("a", HOUR + 60)
    assert late.retract(HOUR)
    assert late.base_rate(10 * HOUR) == 300.0 / (10 * HOUR - 300)
