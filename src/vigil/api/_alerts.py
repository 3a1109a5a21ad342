"""Alertmanager webhook receiver: ``POST /api/v1/alerts/alertmanager``.

Prometheus' Alertmanager posts its webhook payload (version 4) here, authenticated with an API
token of the operator role (``http_config.authorization`` sends ``Bearer <token>``). Each firing
alert becomes an ``external_alert`` finding in the controller's incident book (mapping:
:mod:`vigil.api._alerts_map`), so ``vigil incidents``, the dashboard and the audit trail see it;
Alertmanager's repeats of a firing alert (every ``repeat_interval``) are recognised by fingerprint
and raise nothing new (control characters in an alert's text are replaced by U+FFFD, as log
lines are repaired); a resolved alert resolves the incident it opened once no other alert fires
on that subject (an incident another detector opened is left to that detector). At most
:data:`MAX_ALERTS` alerts per payload (set the receiver's ``max_alerts`` to it) and
:data:`MAX_TRACKED` fingerprints remembered. Registered by :func:`vigil.api.create_app`.

The alerts are written :data:`CHUNK` at a time, each chunk one store transaction
(:meth:`vigil.remediation.IncidentBook.batch`, audit entries included), the loop running between
chunks. A chunk that fails is rolled back whole and its new fingerprints forgotten, so
Alertmanager's retry raises it again; the chunks before it are committed and are repeats then.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, Field

from vigil.api._alerts_map import AlertIn, FiringAlerts, Fleet, alert_finding
from vigil.api._auth import Operator
from vigil.api._context import ApiContext, Ctx, Identity
from vigil.api._control import IncidentDesk
from vigil.api._schemas import BODY_RESPONSES, ERROR_RESPONSES, STORE_RESPONSES
from vigil.model import FindingKind

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)

MAX_ALERTS = 1000
"""Alerts per notification; Alertmanager's ``max_alerts: 1000`` keeps it under (0 = no limit)."""
CHUNK = 20
"""Alerts written in one store transaction; the loop runs between chunks."""
MAX_TRACKED = 10_000
"""Firing fingerprints remembered (the least recently seen are forgotten past it)."""
MAX_LABELS = 64
MAX_TEXT = 4096


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but tab and newline (annotations are often several lines)."""


def _repaired(text: str) -> str:
    """``text`` with control characters replaced by U+FFFD, as log lines are repaired: a NUL
    (templated in from a metric's label) cannot be stored in PostgreSQL text, and failed the
    whole chunk of its notification (500, and the same again on every retry)."""
    return _CONTROL.sub("\ufffd", text) if not text.isprintable() else text


Text = Annotated[str, AfterValidator(_repaired)]


class AlertmanagerAlert(BaseModel):
    status: Literal["firing", "resolved"]
    labels: dict[Text, Text] = Field(max_length=MAX_LABELS)
    annotations: dict[Text, Text] = Field(default_factory=dict, max_length=MAX_LABELS)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: Text = Field(default="", max_length=MAX_TEXT)
    fingerprint: Text = Field(default="", max_length=64)


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body (``version`` "4")."""

    version: str = "4"
    groupKey: str = Field(default="", max_length=MAX_TEXT)
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: Text = Field(max_length=256)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = Field(default="", max_length=MAX_TEXT)
    alerts: list[AlertmanagerAlert] = Field(max_length=MAX_ALERTS)


class AlertResult(BaseModel):
    fingerprint: str
    status: Literal["firing", "resolved"]
    subject: str
    outcome: Literal["raised", "repeat", "resolved", "still_firing", "no_incident"]
    incident_id: int | None


class ReceiveOut(BaseModel):
    alerts: int
    raised: int = Field(description="Firing alerts that raised a finding")
    repeats: int = Field(description="Repeats of an alert already raised (nothing new)")
    resolved: int = Field(description="Incidents resolved")
    truncated: int = Field(description="Alerts Alertmanager left out (its max_alerts)")
    results: list[AlertResult]


def _tracker(request: Request) -> FiringAlerts:
    tracker: FiringAlerts | None = getattr(request.app.state, "firing_alerts", None)
    if tracker is None:
        tracker = request.app.state.firing_alerts = FiringAlerts(MAX_TRACKED)
    return tracker


def _fleet(ctx: ApiContext) -> Fleet:
    control = ctx.control
    return Fleet(
        nodes=frozenset(n.name for n in control.nodes()),
        services=frozenset(control.services()),
        replicas=frozenset(str(r.id) for r in control.replicas()),
    )


def _epoch(value: datetime | None) -> float | None:
    """Seconds since the epoch; None for Alertmanager's zero time (0001-01-01) or none."""
    if value is None or value.year <= 1:
        return None
    return value.timestamp()


@router.post(
    "/alertmanager",
    summary="Receive Alertmanager's webhook (operator role)",
    responses={**BODY_RESPONSES, **STORE_RESPONSES},
)
async def receive_alertmanager(
    payload: AlertmanagerPayload, request: Request, ctx: Ctx, who: Operator
) -> ReceiveOut:
    desk = ctx.control.incident_desk()
    tracker = _tracker(request)
    receipt = _Receipt(payload.receiver, ctx, who, desk, tracker, _fleet(ctx), ctx.clock())
    results: list[AlertResult] = []
    alerts = payload.alerts
    for first in range(0, len(alerts), CHUNK):
        # the incident book writes the store on the controller's loop: one transaction per
        # chunk (~4 ms an alert, not ~10), and heartbeats and probes get in between chunks.
        # Twice: timers and sockets that came due during a chunk are queued behind this task's
        # wake-up, and would otherwise run only after the next chunk (a stall of two chunks)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        chunk = alerts[first : first + CHUNK]
        fresh: list[tuple[str, str]] = []  # fingerprints this chunk started tracking
        try:
            with desk.batch(f"receiving {len(chunk)} alerts from {payload.receiver!r}"):
                for alert in chunk:
                    results.append(_receive(alert, receipt, fresh))
        except BaseException:
            # rolled back whole: forget what it tracked, so Alertmanager's retry raises it;
            # the chunks before it are committed and their alerts will be repeats
            for fingerprint, subject in fresh:
                tracker.resolve(fingerprint, subject)
            raise
    return ReceiveOut(
        alerts=len(alerts),
        raised=sum(r.outcome == "raised" for r in results),
        repeats=sum(r.outcome == "repeat" for r in results),
        resolved=sum(r.outcome == "resolved" for r in results),
        truncated=payload.truncatedAlerts,
        results=results,
    )


@dataclass(frozen=True)
class _Receipt:
    """What every alert of one notification is received with."""

    receiver: str
    ctx: ApiContext
    who: Identity
    desk: IncidentDesk
    tracker: FiringAlerts
    fleet: Fleet
    now: float


def _receive(alert: AlertmanagerAlert, at: _Receipt, fresh: list[tuple[str, str]]) -> AlertResult:
    """One alert of a chunk, inside the chunk's transaction."""
    ctx, who, desk, tracker, fleet, now = at.ctx, at.who, at.desk, at.tracker, at.fleet, at.now
    finding = alert_finding(
        AlertIn(
            labels=alert.labels,
            annotations=alert.annotations,
            starts_at=_epoch(alert.startsAt) or now,
            generator_url=alert.generatorURL,
            fingerprint=alert.fingerprint,
        ),
        fleet,
    )
    fingerprint = str(finding.evidence["fingerprint"])
    subject = finding.subject
    if alert.status == "firing":
        repeat = tracker.seen(fingerprint, subject, finding.at)
        active = desk.active(subject)
        if not repeat or active is None:
            incident = desk.raise_finding(finding)
            outcome: str = "raised"
            if active is None:
                ctx.audit(
                    actor=who.name,
                    action="alert.firing",
                    target=subject,
                    reason=finding.summary,
                    result=f"incident {incident.id}",
                    detail={"fingerprint": fingerprint, "receiver": at.receiver},
                )
        else:
            incident, outcome = active, "repeat"
        if tracker.fire(fingerprint, subject, finding.at):
            fresh.append((fingerprint, subject))
        return _result(fingerprint, "firing", subject, outcome, incident.id)
    others = tracker.resolve(fingerprint, subject)
    active = desk.active(subject)
    if active is None or not _only_alerts(active.evidence):
        return _result(fingerprint, "resolved", subject, "no_incident", None)
    if others:
        return _result(fingerprint, "resolved", subject, "still_firing", active.id)
    ended = _epoch(alert.endsAt) or now
    desk.recovered(subject, ended, f"alertmanager: {finding.evidence['alertname']} resolved")
    ctx.audit(
        actor=who.name,
        action="alert.resolved",
        target=subject,
        reason=finding.summary,
        result=f"incident {active.id} resolved",
        detail={"fingerprint": fingerprint, "receiver": at.receiver},
    )
    return _result(fingerprint, "resolved", subject, "resolved", active.id)


def _only_alerts(evidence: Mapping[str, Any]) -> bool:
    """True when every finding kept in the incident came from an alert (none from a detector)."""
    findings = evidence.get("findings", [])
    return bool(findings) and all(
        isinstance(f, Mapping) and f.get("kind") == FindingKind.EXTERNAL_ALERT.value
        for f in findings
    )


def _result(
    fingerprint: str,
    status: Literal["firing", "resolved"],
    subject: str,
    outcome: str,
    id_: int | None,
) -> AlertResult:
    return AlertResult.model_validate(
        {
            "fingerprint": fingerprint,
            "status": status,
            "subject": subject,
            "outcome": outcome,
            "incident_id": id_,
        }
    )
