from __future__ import annotations

import math

import numpy as np
import pytest

from vigil.logs.analysis import (
    BurstDetector,
    LogFinding,
    LogFindingKind,
    poisson_log_sf,
    poisson_sf,
    poisson_threshold,
)
from vigil.model import Severity


def _feed(
    d: BurstDetector, rates: list[float], *, seed: int = 7, template: str = "step <*> done"
) -> list[tuple[int, LogFinding]]:
    """Poisson counts per 10 s bucket at the given rates, spread evenly in each bucket."""
    rng = np.random.default_rng(seed)
    found = []
    for b, lam in enumerate(rates):
        n = int(rng.poisson(lam))
        for i in range(n):
            f = d.observe(1, b * 10.0 + 10.0 * i / (n + 1), template=template)
            if f is not None:
                found.append((b, f))
    return found


def _brute_sf(k: int, lam: float) -> float:
    return 1.0 - math.fsum(math.exp(i * math.log(lam) - lam - math.lgamma(i + 1)) for i in range(k))


@pytest.mark.parametrize(("k", "lam"), [(1, 1.0), (5, 1.0), (3, 10.0), (10, 10.0), (30, 10.0)])
def test_the_poisson_tail_matches_a_direct_sum(k: int, lam: float) -> None:
    assert poisson_sf(k, lam) == pytest.approx(_brute_sf(k, lam), rel=1e-9)


def test_the_poisson_tail_stays_finite_in_log_space_far_out() -> None:
    log_p = poisson_log_sf(1000, 1.0)
    assert math.isfinite(log_p) and log_p < -5000
    assert poisson_log_sf(0, 3.0) == 0.0


def test_the_threshold_is_the_first_count_under_alpha() -> None:
    log_alpha = math.log(1e-6)
    for lam in (0.01, 1.0, 100.0, 10_000.0):
        k = poisson_threshold(lam, log_alpha)
        assert poisson_log_sf(k, lam) < log_alpha <= poisson_log_sf(k - 1, lam)


def test_a_twenty_fold_rate_jump_is_a_burst() -> None:
    d = BurstDetector()
    found = _feed(d, [2.0] * 200 + [40.0] * 3, template="NCCL timeout on rank <*>")
    assert found, "no burst"
    bucket, first = found[0]
    assert bucket == 200
    assert first.kind is LogFindingKind.TEMPLATE_BURST
    assert first.severity is Severity.CRITICAL  # a burst of a severe template
    assert 0.5 <= first.score <= 1.0
    assert first.evidence["baseline"] == pytest.approx(2.0, rel=0.3)
    assert first.evidence["log10_p"] < -6


def test_a_burst_is_reported_once_per_bucket() -> None:
    d = BurstDetector()
    found = _feed(d, [2.0] * 100 + [200.0])
    assert [b for b, _ in found] == [100]


def test_poisson_noise_at_the_baseline_rate_gives_almost_no_false_bursts() -> None:
    for seed, lam in [(1, 0.3), (2, 3.0), (3, 50.0)]:
        found = _feed(BurstDetector(), [lam] * 10_000, seed=seed)
        assert len(found) <= 2, (lam, found[:3])


def test_a_sustained_new_rate_stops_being_a_burst_after_a_while() -> None:
    d = BurstDetector()
    found = _feed(d, [2.0] * 100 + [40.0] * 600)
    buckets = [b for b, _ in found]
    assert buckets[0] == 100
    assert 110 < max(buckets) < 100 + 400  # slowly learnt, but learnt
    assert d.baseline(1) == pytest.approx(40.0, rel=0.2)


def test_a_young_template_is_not_judged_and_small_counts_never_burst() -> None:
    d = BurstDetector(min_count=5)
    assert all(d.observe(1, 0.5 + i * 0.01) is None for i in range(500))  # first bucket
    quiet = BurstDetector(min_count=5)
    found = [quiet.observe(2, b * 100.0) for b in range(100)]  # one line every ten buckets
    found += [quiet.observe(2, 10_001.0 + i) for i in range(4)]  # four lines in one bucket
    assert found == [None] * 104


def test_memory_stays_bounded_on_an_endless_stream_of_templates() -> None:
    d = BurstDetector(max_templates=100)
    for i in range(20_000):
        d.observe(i % 5000, i * 0.1)
    assert len(d) == 100
    assert d.baseline(4999) is not None and d.baseline(0) is None


def test_the_summary_of_a_busy_template_s_burst_reads_as_a_rise() -> None:
    """A template at 1000 lines a bucket bursts at ~1.2x: "1x the baseline 1e+03" told the
    operator that nothing had changed, in a notation they had to decode."""
    d = BurstDetector()
    for b in range(10):
        assert d.observe(1, b * 10.0, template="tick", count=1000) is None
    found = d.observe(1, 100.0, template="tick", count=1200)
    assert found is not None
    assert "1200 lines in 10s (1.2x the baseline 1000): tick" in found.summary
    quiet = BurstDetector()
    for b in range(10):
        quiet.observe(2, b * 10.0, template="tock", count=2)
    found = quiet.observe(2, 100.0, template="tock", count=50)
    assert found is not None and "(25x the baseline 2): tock" in found.summary
