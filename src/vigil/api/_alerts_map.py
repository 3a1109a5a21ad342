"""Alertmanager alerts as Vigil findings: the pure mapping.

Pure (no I/O): :func:`alert_finding` turns one alert of Alertmanager's webhook payload into a
``external_alert`` :class:`~vigil.model.Finding` on a subject chosen from its labels. Which
fingerprints fire on which subject is kept in the store (``alerts_firing``), so it survives a
restart of the controller.
Called by the receiver router :mod:`vigil.api._alerts`; unit-tested in ``tests/api``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from vigil.model import Finding, FindingKind, Severity

SEVERITIES = {"critical": Severity.CRITICAL, "warning": Severity.WARNING, "info": Severity.INFO}
"""The ``severity`` label's values; any other (or none) is a warning."""
NODE_LABELS = ("node", "hostname", "instance")
SERVICE_LABELS = ("service", "job")
SUMMARY_CHARS = 500
SUBJECT_CHARS = 255
"""The store's subject column (``String(255)``: enforced on PostgreSQL): a longer alert subject
failed its incident's write, the whole chunk answered 500 on every retry."""


@dataclass(frozen=True, slots=True)
class Fleet:
    """What the alert's labels may name: the controller's nodes, services and replica ids."""

    nodes: frozenset[str]
    services: frozenset[str]
    replicas: frozenset[str]


@dataclass(frozen=True, slots=True)
class AlertIn:
    """The fields of one webhook alert the mapping reads (times as epoch seconds)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float
    generator_url: str = ""
    fingerprint: str = ""
    received_at: float | None = None
    """When Vigil received it: a ``starts_at`` far from it is clamped (see :func:`clamp_start`)."""


def host_of(instance: str) -> str:
    """``gpu-07:9100`` -> ``gpu-07``; ``[::1]:9100`` -> ``::1``; a bare name stays itself."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.split(":", 1)[0]
    return instance


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable id for an alert without Alertmanager's ``fingerprint`` (16 hex of its labels)."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def subject_of(labels: Mapping[str, str], fingerprint: str, fleet: Fleet) -> str:
    """The Vigil subject an alert is about.

    A node when ``node``/``hostname``/``instance`` (port stripped) names one of the fleet's nodes;
    a replica when ``replica`` names one (``llm/0``); a service when ``service``/``job`` names
    one; else the alert itself: ``alert:<alertname>/<fingerprint>``, the name shortened (``…``)
    to keep the subject within :data:`SUBJECT_CHARS`.
    """
    for key in NODE_LABELS:
        value = labels.get(key)
        if value and host_of(value) in fleet.nodes:
            return f"node:{host_of(value)}"
    replica = labels.get("replica")
    if replica and replica in fleet.replicas:
        return f"replica:{replica}"
    for key in SERVICE_LABELS:
        value = labels.get(key)
        if value and value in fleet.services:
            return f"service:{value}"
    name = labels.get("alertname") or "unnamed"
    room = SUBJECT_CHARS - len("alert:/") - len(fingerprint)
    if len(name) > room:  # the whole name stays in the finding's evidence
        name = name[: room - 1] + "…"
    return f"alert:{name}/{fingerprint}"


MAX_AHEAD = 300.0
"""Seconds a ``startsAt`` may be ahead of Vigil's clock: clock skew between Prometheus and Vigil.
Further ahead it is a wrong clock or a bad payload, and the incident would be detected in the
future (shown as "in 3 years", never aged)."""
MAX_AGE = 365 * 86400.0
"""Seconds a ``startsAt`` may be behind Vigil's clock. An alert firing for over a year is a wrong
clock or a bad payload (``0002-01-01`` gave a detection time 62 billion seconds ago, which made
every duration of its incident nonsense)."""


def clamp_start(starts_at: float, received_at: float) -> tuple[float, str | None]:
    """A sane detection time for an alert that says it started at ``starts_at``: itself when
    within [``received_at`` - :data:`MAX_AGE`, ``received_at`` + :data:`MAX_AHEAD`], else
    ``received_at`` (for a future one) or the oldest bound; with the reason when clamped."""
    if starts_at > received_at + MAX_AHEAD:
        return received_at, (
            f"startsAt {starts_at - received_at:.0f}s ahead of Vigil's clock (more than "
            f"{MAX_AHEAD:g}s): the time of receipt used"
        )
    if starts_at < received_at - MAX_AGE:
        return received_at - MAX_AGE, (
            f"startsAt {received_at - starts_at:.0f}s in the past (more than "
            f"{MAX_AGE / 86400:g} days): clamped to that bound"
        )
    return starts_at, None


def severity_of(labels: Mapping[str, str]) -> Severity:
    return SEVERITIES.get(labels.get("severity", "").strip().lower(), Severity.WARNING)


def alert_finding(alert: AlertIn, fleet: Fleet) -> Finding:
    """The finding a firing alert raises: subject, severity, summary and evidence from it."""
    fingerprint = alert.fingerprint or fingerprint_of(alert.labels)
    name = alert.labels.get("alertname") or "unnamed"
    text = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    summary = f"alert {name}" + (f": {text}" if text else "")
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 3] + "..."
    evidence: dict[str, object] = {
        "source": "alertmanager",
        "alertname": name,
        "fingerprint": fingerprint,
        "labels": dict(alert.labels),
        "generator_url": alert.generator_url,
    }
    at, clamped = alert.starts_at, None
    if alert.received_at is not None:
        at, clamped = clamp_start(alert.starts_at, alert.received_at)
    if clamped is not None:
        evidence["starts_at_reported"] = alert.starts_at
        evidence["starts_at_clamped"] = clamped
    return Finding(
        kind=FindingKind.EXTERNAL_ALERT,
        subject=subject_of(alert.labels, fingerprint, fleet),
        at=at,
        summary=summary,
        severity=severity_of(alert.labels),
        evidence=evidence,
    )
