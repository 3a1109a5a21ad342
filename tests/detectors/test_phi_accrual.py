"""The phi-accrual detector and NodeJudge, driven with simulated time (no clock, no sleeping)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from vigil.detectors import NodeJudge, PhiAccrual, Transition, detection_time, phi_of
from vigil.model import NodeStatus

INTERVAL = 0.5
CHECK_EVERY = 0.05
PHI_SUSPECT = 5.0  # the daemon's HeartbeatSettings defaults
PHI_DOWN = 10.0


def judge_with_defaults(acceptable_pause: float = 0.0) -> NodeJudge:
    return NodeJudge(
        interval=INTERVAL,
        phi_suspect=PHI_SUSPECT,
        phi_down=PHI_DOWN,
        min_std=0.0,
        acceptable_pause=acceptable_pause,
    )


def jittered_agent(seed: int, seconds: float = 300.0) -> list[float]:
    """Send times of an agent beating every INTERVAL, each sent up to +-50% of it late or early."""
    rng = random.Random(seed)
    count = int(seconds / INTERVAL)
    return [k * INTERVAL + rng.uniform(-INTERVAL / 2, INTERVAL / 2) for k in range(1, count + 1)]


def run(judge: NodeJudge, beats: list[float], until: float) -> tuple[float, list[Transition]]:
    """Feed ``beats`` to ``judge``, evaluating every CHECK_EVERY and just before each beat."""
    max_phi, changes = 0.0, []
    ticks = [i * CHECK_EVERY for i in range(int(until / CHECK_EVERY) + 1)]
    events = sorted([(t, 1) for t in ticks] + [(t, 0) for t in beats])
    for now, is_tick in events:
        max_phi = max(max_phi, judge.phi("n1", now))
        if is_tick:
            changes += judge.evaluate(now)
        elif (change := judge.observe("n1", now)) is not None:
            changes.append(change)
    return max_phi, changes


def first_down_after(judge: NodeJudge, last: float) -> float:
    now = last
    while judge.status("n1") is not NodeStatus.DOWN:
        now += 0.001
        judge.evaluate(now)
    return now - last


def test_phi_grows_monotonically_with_silence() -> None:
    detector = PhiAccrual(min_std=0.125, first_interval=INTERVAL)
    detector.heartbeat(0.0)
    values = [detector.phi(i * 0.01) for i in range(0, 100_000, 7)]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[-1] > 1000


def test_phi_stays_finite_and_non_decreasing_for_any_silence() -> None:
    detector = PhiAccrual(min_std=0.125, first_interval=INTERVAL)
    detector.heartbeat(0.0)
    silences = [10.0**k for k in range(0, 308, 4)] + [1.7e308, math.inf]
    values = [detector.phi(s) for s in silences]
    assert all(math.isfinite(v) for v in values)
    assert all(b >= a for a, b in itertools.pairwise(values))


def test_phi_is_zero_before_the_first_heartbeat() -> None:
    assert PhiAccrual(min_std=0.1, first_interval=1.0).phi(123.0) == 0.0


def test_the_history_is_seeded_so_a_node_is_judged_from_its_first_heartbeat() -> None:
    detector = PhiAccrual(min_std=0.01, first_interval=2.0)
    assert detector.mean == pytest.approx(2.0)
    assert detector.std == pytest.approx(0.5)
    detector.heartbeat(10.0)
    assert detector.phi(11.0) < 1 < detector.phi(13.0) < 5 < detector.phi(15.0)


def test_the_window_is_bounded_and_forgets_old_intervals() -> None:
    detector = PhiAccrual(window=10, min_std=0.001, first_interval=5.0)
    for k in range(1000):
        detector.heartbeat(k * 0.2)
    assert detector.mean == pytest.approx(0.2)
    assert detector.std == pytest.approx(0.0, abs=1e-6)


def test_regular_heartbeats_at_half_a_second_keep_phi_low() -> None:
    judge = judge_with_defaults()
    max_phi, changes = run(judge, [k * INTERVAL for k in range(1, 601)], until=300.0)
    assert max_phi < 1.0
    assert changes == [Transition("n1", NodeStatus.UNKNOWN, NodeStatus.UP, 0.0)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 42, 1234, 99991])
def test_an_agent_with_jitter_up_to_half_the_interval_is_never_suspected(seed: int) -> None:
    judge = judge_with_defaults()
    max_phi, changes = run(judge, jittered_agent(seed), until=300.0)
    assert [c.new for c in changes] == [NodeStatus.UP]
    assert max_phi < PHI_SUSPECT


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_silent_jittered_agent_is_down_within_three_seconds(seed: int) -> None:
    judge = judge_with_defaults()
    beats = jittered_agent(seed)
    run(judge, beats, until=beats[-1])
    took = first_down_after(judge, beats[-1])
    assert took < 3.0
    detector = judge.detector("n1")
    assert detector is not None
    assert took == pytest.approx(detector.silence_until(PHI_DOWN), abs=0.002)


def test_a_silent_regular_agent_is_suspect_then_down_at_the_computed_times() -> None:
    judge = judge_with_defaults()
    beats = [k * INTERVAL for k in range(1, 601)]
    run(judge, beats, until=beats[-1])
    suspect_at, down_at = judge.detection_times()
    assert judge.evaluate(beats[-1] + suspect_at - 0.001) == []
    (suspect,) = judge.evaluate(beats[-1] + suspect_at + 0.001)
    assert (suspect.old, suspect.new) == (NodeStatus.UP, NodeStatus.SUSPECT)
    assert judge.evaluate(beats[-1] + down_at - 0.001) == []
    (down,) = judge.evaluate(beats[-1] + down_at + 0.001)
    assert (down.old, down.new) == (NodeStatus.SUSPECT, NodeStatus.DOWN)
    assert down.phi >= PHI_DOWN
    assert down_at < 3.0


def test_detection_time_inverts_phi() -> None:
    for threshold in (0.5, 1.0, 5.0, 10.0, 16.0, 100.0):
        delta = detection_time(threshold, mean=0.5, std=0.125)
        assert phi_of(delta, 0.5, 0.125) == pytest.approx(threshold, rel=1e-9)


def test_acceptable_pause_delays_suspicion_by_that_pause() -> None:
    strict = judge_with_defaults()
    lenient = judge_with_defaults(acceptable_pause=INTERVAL)
    assert lenient.detection_times()[1] == pytest.approx(strict.detection_times()[1] + INTERVAL)
    for judge in (strict, lenient):
        run(judge, [k * INTERVAL for k in range(1, 201)], until=100.0)
    one_lost = 100.0 + 2 * INTERVAL - 0.001
    assert lenient.phi("n1", one_lost) < 1.0 < strict.phi("n1", one_lost) < 5.0


def test_a_node_goes_unknown_up_suspect_down_and_back_up_on_a_heartbeat() -> None:
    judge = NodeJudge(interval=1.0, phi_suspect=5, phi_down=10)
    assert judge.status("a") is NodeStatus.UNKNOWN
    first = judge.observe("a", 0.0)
    assert first == Transition("a", NodeStatus.UNKNOWN, NodeStatus.UP, 0.0)
    assert judge.observe("a", 1.0) is None
    assert judge.evaluate(1.5) == []
    (suspect,) = judge.evaluate(3.2)
    assert (suspect.node, suspect.old, suspect.new) == ("a", NodeStatus.UP, NodeStatus.SUSPECT)
    assert 5 <= suspect.phi < 10
    assert judge.evaluate(3.21) == []
    (down,) = judge.evaluate(4.0)
    assert (down.old, down.new) == (NodeStatus.SUSPECT, NodeStatus.DOWN)
    assert judge.evaluate(100.0) == []
    back = judge.observe("a", 100.0)
    assert back is not None
    assert (back.old, back.new) == (NodeStatus.DOWN, NodeStatus.UP)
    assert back.phi > 10
    assert judge.last_heartbeat("a") == 100.0


def test_a_long_silence_goes_straight_from_up_to_down() -> None:
    judge = NodeJudge(interval=1.0)
    judge.observe("a", 0.0)
    (change,) = judge.evaluate(60.0)
    assert (change.old, change.new) == (NodeStatus.UP, NodeStatus.DOWN)


def test_nodes_are_judged_independently_and_can_be_forgotten() -> None:
    judge = NodeJudge(interval=1.0)
    judge.observe("a", 0.0)
    judge.observe("b", 0.0)
    judge.observe("b", 5.0)
    changes = judge.evaluate(5.0)
    assert [(c.node, c.new) for c in changes] == [("a", NodeStatus.DOWN)]
    assert judge.nodes() == ["a", "b"]
    judge.forget("a")
    assert judge.nodes() == ["b"]
    assert judge.status("a") is NodeStatus.UNKNOWN
    assert judge.phi("a", 10.0) == 0.0
    assert judge.last_heartbeat("a") is None
    judge.forget("missing")


def test_min_std_zero_means_a_quarter_of_the_interval() -> None:
    assert NodeJudge(interval=2.0).min_std == 0.5
    assert NodeJudge(interval=2.0, min_std=0.1).min_std == 0.1


@pytest.mark.parametrize(
    "kwargs",
    [{"interval": 0.0}, {"interval": 1.0, "phi_suspect": 10, "phi_down": 5}],
)
def test_a_judge_rejects_impossible_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NodeJudge(**kwargs)  # type: ignore[arg-type]


def test_a_detector_rejects_impossible_parameters() -> None:
    with pytest.raises(ValueError):
        PhiAccrual(window=1, min_std=0.1, first_interval=1.0)
    with pytest.raises(ValueError):
        PhiAccrual(min_std=0.0, first_interval=1.0)


def test_a_node_back_from_down_is_judged_on_a_fresh_history() -> None:
    judge = NodeJudge(interval=1.0, phi_suspect=5, phi_down=10)
    for t in range(10):
        judge.observe("a", float(t))
    assert judge.evaluate(60.0)[-1].new is NodeStatus.DOWN
    judge.observe("a", 60.0)
    # the 51 s outage is not part of the new history: a short silence is judged as before
    detector = judge.detector("a")
    assert detector is not None
    assert detector.mean == pytest.approx(1.0)
    assert judge.evaluate(61.5) == []


class EveryNode(NodeJudge):
    """The judge without deadlines: every node's phi computed at every evaluation."""

    def _deadline(self, detector: PhiAccrual, status: NodeStatus) -> float:
        return -math.inf


@pytest.mark.parametrize("seed", range(6))
def test_deadlines_skip_nodes_without_changing_a_single_transition(seed: int) -> None:
    rng = random.Random(seed)
    params = {
        "interval": 1.0,
        "phi_suspect": rng.choice([3.0, 5.0, 8.0]),
        "phi_down": rng.choice([8.0, 10.0, 16.0]),
        "window": rng.choice([5, 100]),
        "acceptable_pause": rng.choice([0.0, 0.5]),
    }
    fast, every = NodeJudge(**params), EveryNode(**params)
    now = 1.7e9 + rng.random()  # epoch-sized times, as the controller's clock gives
    # per node, how likely a step brings its heartbeat: steady ones, flaky ones, silent ones
    beats = {f"n{i}": rng.choice([0.9, 0.3, 0.02]) for i in range(20)}
    worsened: list[Transition] = []
    for _ in range(2000):
        now += rng.choice([0.01, 0.05, 0.05, 0.3])
        for node, p in beats.items():
            if rng.random() < p * 0.05:
                assert fast.observe(node, now) == every.observe(node, now)
        if rng.random() < 0.003:
            node = rng.choice(list(beats))
            fast.forget(node)
            every.forget(node)
        changes = fast.evaluate(now)
        assert changes == every.evaluate(now)
        worsened += changes
    for node in beats:
        assert fast.status(node) == every.status(node)
    assert {t.new for t in worsened} == {NodeStatus.SUSPECT, NodeStatus.DOWN}  # it did worsen
