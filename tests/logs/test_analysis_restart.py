"""Burst baselines, association and Bayes counts across a restart: saved as JSON, restored, and
the time the controller was down left out (it is no evidence of quiet or of health)."""

from __future__ import annotations

import json
from typing import Any

from vigil.logs.analysis import AssociationMiner, BurstDetector, FaultBayes

HOUR = 3600.0


def through_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


def steady(bursts: BurstDetector, start: float, end: float, per_bucket: int = 20) -> None:
    t = start
    while t < end:
        assert bursts.observe(1, t, template="tick", count=per_bucket) is None
        t += bursts.bucket_seconds


def test_a_restored_baseline_judges_at_once_and_the_downtime_does_not_decay_it() -> None:
    before = BurstDetector()
    steady(before, 0.0, 600.0)
    saved = through_json(before.to_dict())
    after = BurstDetector()
    assert after.restore(saved)
    assert after.baseline(1) == before.baseline(1)
    after.unobserved(600.0, 600.0 + HOUR)
    steady(after, 600.0 + HOUR, 600.0 + HOUR + 60)  # the usual rate is no burst
    t = 600.0 + HOUR + 60
    assert after.observe(1, t, template="tick", count=200) is not None  # judged at once
    # without leaving the hour out, the baseline decays to nothing: the usual rate "bursts"
    naive = BurstDetector()
    naive.restore(saved)
    assert naive.observe(1, 600.0 + HOUR, template="tick", count=20) is not None


def test_burst_baselines_of_another_bucket_width_are_not_taken() -> None:
    before = BurstDetector(bucket_seconds=10)
    steady(before, 0.0, 100.0)
    after = BurstDetector(bucket_seconds=30)
    assert not after.restore(through_json(before.to_dict()))
    assert len(after) == 0


def history(miner: AssociationMiner, bayes: FaultBayes, start: float, hours: int) -> None:
    """Noise every minute; every other hour a precursor 30 s before an incident."""
    for hour in range(hours):
        for minute in range(60):
            now = start + hour * HOUR + minute * 60
            miner.occurrence(1, now)
            bayes.occurrence(1, now)
            if hour % 2 == 0 and minute == 30:
                miner.occurrence(2, now + 1)
                bayes.occurrence(2, now + 1)
                miner.incident("replica:a", now + 31)
                bayes.incident("replica:a", now + 31)


def test_association_and_bayes_counts_survive_and_the_downtime_is_no_evidence() -> None:
    miner, bayes = AssociationMiner(window=300), FaultBayes(window=300, slot=60)
    history(miner, bayes, 0.0, 12)
    end = 12 * HOUR
    rules = miner.rules(end)
    posterior = bayes.posterior(2, end)
    assert [r.template_id for r in rules] == [2] and posterior > 0.6
    miner2, bayes2 = AssociationMiner(window=300), FaultBayes(window=300, slot=60)
    assert miner2.restore(through_json(miner.to_dict()))
    assert bayes2.restore(through_json(bayes.to_dict()))
    assert miner2.rules(end) == rules and bayes2.posterior(2, end) == posterior
    # down for a day; then the same life goes on
    back = end + 24 * HOUR
    miner2.unobserved(end, back)
    bayes2.unobserved(end, back)
    history(miner2, bayes2, back, 12)
    history(miner, bayes, end, 12)  # the same 24 hours without a gap
    later, later2 = 24 * HOUR, back + 12 * HOUR
    assert abs(bayes2.prior(later2) - bayes.prior(later)) < 0.01
    assert abs(miner2.base_rate(later2) - miner.base_rate(later)) < 0.01  # type: ignore[operator]
    # counted as a quiet day, the gap would make faults look rarer than they are
    naive = FaultBayes(window=300, slot=60)
    naive.restore(through_json(bayes.to_dict()))
    history(AssociationMiner(window=300), naive, later + 24 * HOUR, 1)
    assert naive.prior(later + 25 * HOUR) < 0.6 * bayes.prior(later)


def test_counts_made_with_another_window_are_not_taken() -> None:
    miner, bayes = AssociationMiner(window=300), FaultBayes(window=300, slot=60)
    history(miner, bayes, 0.0, 2)
    assert not AssociationMiner(window=600).restore(through_json(miner.to_dict()))
    assert not FaultBayes(window=300, slot=30).restore(through_json(bayes.to_dict()))


def test_an_incident_just_after_a_restart_labels_no_slot_of_the_downtime() -> None:
    """Its window reaches back into the time the controller was down: those slots are in no
    count, so they are no fault slots either. They were: up two minutes, down an hour, an
    incident 10 s after the restart gave 6 fault slots of 4 and P(fault) = 7/6."""
    bayes = FaultBayes(slot=60.0, window=300.0)
    bayes.occurrence(1, 0.0)
    bayes.occurrence(1, 100.0)
    bayes.unobserved(120.0, HOUR)
    bayes.occurrence(2, HOUR + 5)
    bayes.incident("replica:a", HOUR + 10)
    later = HOUR + 400
    assert 0.0 < bayes.prior(later) <= 1.0
    assert bayes.fault_slots <= bayes.slots
    assert 0.0 < bayes.posterior(2, later) <= 1.0
    # the only observed slot the incident labels is the one it opened in ([HOUR, HOUR + 60))
    assert (bayes.slots, bayes.fault_slots) == (4, 1)


def test_an_incident_just_after_a_restart_covers_no_time_of_the_downtime() -> None:
    """The base rate is covered time / observed time, and the downtime is not observed: the
    part of an incident's window inside it is not covered either. It was: 300 s covered of
    which 290 s down, a base rate 30 times too high (every lift 30 times too low)."""
    miner = AssociationMiner(window=300.0)
    miner.occurrence(1, 0.0)
    miner.unobserved(HOUR, 2 * HOUR)
    miner.incident("replica:a", 2 * HOUR + 10)
    now = 6 * HOUR
    observed = (now - 300.0) - HOUR  # [0, now - W) less the hour down
    assert miner.base_rate(now) == 10.0 / observed


def test_a_restart_does_not_add_the_bucket_it_stopped_in_to_the_one_it_resumes_in() -> None:
    """Saved 9 s into a bucket of a template at 100 lines a second, restarted at the start of
    another: that bucket's 900 lines were added to the next 1000, a burst of 1900 against a
    baseline of 1000, for every busy template at every restart."""
    before = BurstDetector()
    for second in range(1009):  # 100 lines a second: 1000 a bucket, and 900 in the last one
        assert before.observe(1, float(second), template="tick", count=100) is None
    saved_at, back = 1009.0, 1009.0 + HOUR - 9.0  # back at the start of a bucket
    after = BurstDetector()
    assert after.restore(through_json(before.to_dict()))
    after.unobserved(saved_at, back)
    found = [after.observe(1, back + s, template="tick", count=100) for s in range(60)]
    assert found == [None] * 60
    assert after.baseline(1) == before.baseline(1) == 1000.0
    assert after.observe(1, back + 60, template="tick", count=2000) is not None  # still judged


def test_a_fleet_wide_burst_is_not_reported_fleet_wide_again_after_a_restart_in_its_bucket() -> (
    None
):
    """A burst reported on one node, then fleet-wide, then a restart within the same bucket: the
    bucket's marks (``fleet``, ``blamed``) were not saved, so the lines after the restart made it
    "widen" once more, a second fleet-wide finding (a duplicate incident); and the next bucket of
    the burst was no longer fleet-wide from its start."""
    nodes = [f"n{i}/app" for i in range(4)]
    before = BurstDetector()
    for b in range(20):  # two lines a node per bucket
        for i, source in enumerate(nodes):
            assert (
                before.observe(1, b * 10.0 + i, template="refused", source=source, count=2) is None
            )
    first = before.observe(1, 200.0, template="refused", source="n0/app", count=500)
    widened = before.observe(1, 201.0, template="refused", source="n1/app", count=500)
    assert first is not None and first.source == "n0/app"
    assert widened is not None and widened.source == "fleet"
    saved = through_json(before.to_dict())
    for after in (before, BurstDetector()):  # the run that went on, and one restarted at 203
        if after is not before:
            assert after.restore(saved)
            after.unobserved(202.0, 203.0)  # down for a second, in the same bucket
        found = [
            after.observe(1, 203.0 + i, template="refused", source=source, count=500)
            for i, source in enumerate(nodes)
        ]
        assert found == [None] * 4
        # the next bucket of the burst is fleet-wide from its first line
        again = after.observe(1, 210.0, template="refused", source="n0/app", count=500)
        assert again is not None and again.source == "fleet"


def test_burst_baselines_saved_before_the_marks_were_kept_still_load() -> None:
    before = BurstDetector()
    steady(before, 0.0, 600.0)
    saved = through_json(before.to_dict())
    saved["tracks"] = [track[:7] for track in saved["tracks"]]  # the older seven fields
    after = BurstDetector()
    assert after.restore(saved)
    assert after.baseline(1) == before.baseline(1)
    assert after.observe(1, 600.0, template="tick", count=200) is not None  # judged at once
