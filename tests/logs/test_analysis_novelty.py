from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs.analysis import (
    LogFindingKind,
    NoveltyDetector,
    level_severity,
    severe_words,
    severity_of,
)
from vigil.model import Severity


def _warmed(lines: int = 100, seconds: float = 60.0) -> NoveltyDetector:
    d = NoveltyDetector(warmup_lines=lines, warmup_seconds=seconds)
    for i in range(lines):
        assert d.observe(i % 3, f"steady template {i % 3}", now=i * seconds / lines) is None
    return d


def test_a_new_template_after_warm_up_is_reported_once() -> None:
    d = _warmed()
    first = d.observe(42, "worker <*> joined the ring", now=100.0)
    assert first is not None
    assert first.kind is LogFindingKind.NOVEL_TEMPLATE
    assert (first.template_id, first.at) == (42, 100.0)
    assert first.summary == "new log template: worker <*> joined the ring"
    assert d.observe(42, "worker <*> joined the ring", now=101.0) is None
    assert d.observe(42, "worker <*> joined the ring", now=5000.0) is None


def test_a_new_template_during_warm_up_is_not_reported() -> None:
    d = NoveltyDetector(warmup_lines=100, warmup_seconds=60.0)
    assert d.observe(1, "a", now=0.0) is None
    assert d.observe(2, "b", now=1.0) is None
    for i in range(200):  # enough lines, but not enough time yet
        d.observe(1, "a", now=2.0 + i * 0.1)
    assert d.warming_up(30.0)
    assert d.observe(3, "c", now=30.0) is None
    assert not d.warming_up(61.0)
    assert d.observe(2, "b", now=61.0) is None  # seen during the warm-up: known
    assert d.observe(4, "d", now=62.0) is not None


def test_warm_up_can_count_lines_only_or_seconds_only() -> None:
    by_lines = NoveltyDetector(warmup_lines=3, warmup_seconds=0)
    for i in range(3):
        by_lines.observe(1, "a", now=0.0 + i)
    assert by_lines.observe(2, "b", now=3.0) is not None
    by_time = NoveltyDetector(warmup_lines=0, warmup_seconds=10.0)
    by_time.observe(1, "a", now=0.0)
    assert by_time.observe(2, "b", now=5.0) is None
    assert by_time.observe(3, "c", now=10.0) is not None


def test_an_error_template_gets_a_higher_severity_and_score() -> None:
    d = _warmed()
    info = d.observe(10, "worker <*> joined the ring", now=100.0, level="INFO")
    warn = d.observe(11, "slow step <*> ms", now=100.0, level="WARN")
    error = d.observe(12, "Xid <*> error on GPU <*>", now=100.0, level="ERROR")
    assert info is not None and warn is not None and error is not None
    assert (info.severity, warn.severity, error.severity) == (
        Severity.INFO,
        Severity.WARNING,
        Severity.CRITICAL,
    )
    assert info.score < warn.score < error.score <= 1.0
    assert error.evidence["severe_words"] == ["xid", "error"]


def test_severe_words_raise_an_info_line_by_one_step() -> None:
    d = _warmed()
    finding = d.observe(20, "NCCL watchdog timeout on rank <*>", now=100.0, level="INFO")
    assert finding is not None and finding.severity is Severity.WARNING
    assert severity_of("Connection refused by <*>", "W") is Severity.CRITICAL
    assert severity_of("Connection refused by <*>", "[error]") is Severity.CRITICAL


def test_severe_words_match_at_the_start_of_a_word_or_an_underscored_part() -> None:
    assert severe_words("Task FAILED: oom-killer invoked, CUDA_ERROR_ILLEGAL") == [
        "fail",
        "oom",
        "cuda",
        "error",
    ]
    assert severe_words("room temperature nominal, terror averted") == []


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("ERROR", Severity.CRITICAL),
        ("fatal", Severity.CRITICAL),
        ("[CRITICAL]", Severity.CRITICAL),
        ("E", Severity.CRITICAL),
        ("WARN", Severity.WARNING),
        ("warning:", Severity.WARNING),
        ("INFO", Severity.INFO),
        ("", Severity.INFO),
        (None, Severity.INFO),
    ],
)
def test_levels_map_to_severities(level: str | None, severity: Severity) -> None:
    assert level_severity(level) is severity


def test_a_finding_maps_to_a_model_finding_subject_and_evidence() -> None:
    d = _warmed()
    finding = d.observe(7, "disk <*> full", now=100.0, source="llm/0")
    assert finding is not None
    assert finding.subject == "logs:llm/0"
    evidence = finding.finding_evidence()
    assert evidence["log_kind"] == "novel_template"
    assert evidence["template_id"] == 7
    assert evidence["template"] == "disk <*> full"


def test_a_miner_merge_does_not_look_like_a_new_template() -> None:
    d = _warmed()
    d.observe(50, "job <*> done", now=100.0)
    d.merged([(50, 60)])
    assert d.observe(60, "job <*> done", now=101.0) is None


def test_it_works_on_the_miners_ids() -> None:
    miner = TemplateMiner()
    d = NoveltyDetector(warmup_lines=50, warmup_seconds=0)
    found = []
    for i in range(100):
        m = miner.add(f"request {i} served in {i % 7} ms")
        found.append(d.observe(m.cluster_id, m.template, now=float(i)))
    m = miner.add("GPU 3 fell off the bus")
    found.append(d.observe(m.cluster_id, m.template, now=100.0, level="ERROR"))
    reported = [f for f in found if f is not None]
    assert [f.template for f in reported] == ["GPU <*> fell off the bus"]


def test_memory_stays_bounded_on_an_endless_stream_of_new_ids() -> None:
    d = NoveltyDetector(warmup_lines=0, warmup_seconds=0, max_known=1000)
    for i in range(50_000):
        d.observe(i, "t", now=float(i))
    assert len(d) == 1000
    assert d.known(49_999) and not d.known(0)
