"""The pure mapping of Alertmanager alerts to findings (the fingerprints firing are the store's:
tests/store/test_alerts_firing.py)."""

from __future__ import annotations

import pytest

from vigil.api._alerts_map import (
    SUMMARY_CHARS,
    AlertIn,
    Fleet,
    alert_finding,
    fingerprint_of,
    host_of,
    subject_of,
)
from vigil.model import FindingKind, Severity

FLEET = Fleet(
    nodes=frozenset({"gpu-07", "node-a"}),
    services=frozenset({"llm", "web"}),
    replicas=frozenset({"llm/0", "llm/1"}),
)


@pytest.mark.parametrize(
    ("instance", "host"),
    [("gpu-07:9100", "gpu-07"), ("gpu-07", "gpu-07"), ("[::1]:9100", "::1"), ("::1", "::1")],
)
def test_host_of_strips_the_port(instance: str, host: str) -> None:
    assert host_of(instance) == host


@pytest.mark.parametrize(
    ("labels", "subject"),
    [
        ({"alertname": "A", "instance": "gpu-07:9100", "job": "llm"}, "node:gpu-07"),
        ({"alertname": "A", "hostname": "node-a"}, "node:node-a"),
        ({"alertname": "A", "node": "node-a", "instance": "gpu-07:9100"}, "node:node-a"),
        ({"alertname": "A", "instance": "other:9100", "replica": "llm/1"}, "replica:llm/1"),
        ({"alertname": "A", "instance": "other:9100", "job": "web"}, "service:web"),
        ({"alertname": "A", "service": "llm", "job": "web"}, "service:llm"),
        ({"alertname": "DiskFull", "instance": "db:9100", "job": "pg"}, "alert:DiskFull/fp1"),
        ({"instance": "db:9100"}, "alert:unnamed/fp1"),
    ],
)
def test_subject_is_a_vigil_node_replica_service_or_the_alert(
    labels: dict[str, str], subject: str
) -> None:
    assert subject_of(labels, "fp1", FLEET) == subject


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("Warning", Severity.WARNING),
        ("info", Severity.INFO),
        ("page", Severity.WARNING),
        (None, Severity.WARNING),
    ],
)
def test_severity_label_unknown_is_warning(label: str | None, severity: Severity) -> None:
    labels = {"alertname": "X"} | ({} if label is None else {"severity": label})
    finding = alert_finding(AlertIn(labels=labels, annotations={}, starts_at=5.0), FLEET)
    assert finding.severity is severity


def test_finding_carries_summary_evidence_and_start_time() -> None:
    alert = AlertIn(
        labels={"alertname": "GpuHot", "instance": "gpu-07:9100", "severity": "critical"},
        annotations={"summary": "GPU 0 at 91C", "description": "long text"},
        starts_at=1234.5,
        generator_url="http://prom:9090/graph?g0.expr=x",
        fingerprint="abc123",
    )
    finding = alert_finding(alert, FLEET)
    assert finding.kind is FindingKind.EXTERNAL_ALERT
    assert finding.subject == "node:gpu-07"
    assert finding.at == 1234.5
    assert finding.summary == "alert GpuHot: GPU 0 at 91C"
    assert finding.evidence["labels"] == alert.labels
    assert finding.evidence["generator_url"] == alert.generator_url
    assert finding.evidence["fingerprint"] == "abc123"


def test_summary_falls_back_to_description_and_is_bounded() -> None:
    base = {"labels": {"alertname": "Slow"}, "starts_at": 1.0}
    described = alert_finding(AlertIn(annotations={"description": "p99 high"}, **base), FLEET)
    assert described.summary == "alert Slow: p99 high"
    bare = alert_finding(AlertIn(annotations={}, **base), FLEET)
    assert bare.summary == "alert Slow"
    long = alert_finding(AlertIn(annotations={"summary": "x" * 5000}, **base), FLEET)
    assert len(long.summary) == SUMMARY_CHARS and long.summary.endswith("...")


def test_missing_fingerprint_is_derived_from_the_labels() -> None:
    one = fingerprint_of({"alertname": "A", "job": "x"})
    assert one == fingerprint_of({"job": "x", "alertname": "A"})
    assert one != fingerprint_of({"alertname": "A", "job": "y"})
    finding = alert_finding(
        AlertIn(labels={"alertname": "A", "job": "x"}, annotations={}, starts_at=1), FLEET
    )
    assert finding.evidence["fingerprint"] == one
    assert finding.subject == f"alert:A/{one}"
