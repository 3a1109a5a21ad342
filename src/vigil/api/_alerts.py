"""Alertmanager webhook receiver: ``POST /api/v1/alerts/alertmanager``.

Prometheus' Alertmanager posts its webhook payload (version 4) here, authenticated with an API
token of the operator role (``http_config.authorization`` sends ``Bearer <token>``). Each firing
alert becomes an ``external_alert`` finding in the controller's incident book (mapping:
:mod:`vigil.api._alerts_map`), so ``vigil incidents``, the dashboard and the audit trail see it;
Alertmanager's repeats of a firing alert (every ``repeat_interval``) are recognised by fingerprint
and raise nothing new (control characters in an alert's text are replaced by U+FFFD, as log
lines are repaired); a resolved alert resolves the incident it opened once no other alert fires
on that subject (an incident another detector opened is left to that detector); the subject is
the one it fired on, and an alert whose subject changed with the fleet (a restart that added or
removed its node) settles the incident it opened on the old one when it repeats. The firing
fingerprints are kept in the store (``alerts_firing``, :meth:`vigil.store.Store.note_firing_alert`),
so a restart of the controller or a standby's takeover forgets none; at most :data:`MAX_TRACKED`
of them (the least recently seen go). At most :data:`MAX_ALERTS` alerts per payload (set the
receiver's ``max_alerts`` to it). Registered by :func:`vigil.api.create_app`.

The alerts are written :data:`CHUNK` at a time, each chunk one store transaction
(:meth:`vigil.remediation.IncidentBook.batch`: incidents, audit entries and fingerprints), on
one writer thread of the app's (in order, one chunk at a time): the event loop (heartbeats,
probes, the API) is not held by the ~4 ms of SQLAlchemy per alert, which at 1,000 alerts in one
notification stalled it 250 ms at a time. The incident desk is used on that thread only (the
controller's publishes its events to the loop's bus from there); the thread ends with the
controller (:func:`close_receiver`, when its server stops), after the chunk it is writing, and
a notification after that is answered 503. A chunk that fails is rolled
back whole, fingerprints included, so Alertmanager's retry raises it again; the chunks before
it are committed and are repeats then.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, FastAPI, Request
from pydantic import AfterValidator, BaseModel, Field

from vigil.api._alerts_map import AlertIn, Fleet, alert_finding, clamp_start
from vigil.api._auth import Operator
from vigil.api._context import ApiContext, Ctx, Identity
from vigil.api._control import IncidentDesk
from vigil.api._schemas import BODY_RESPONSES, ERROR_RESPONSES, STORE_RESPONSES
from vigil.errors import TransientActionError
from vigil.model import Finding, FindingKind
from vigil.store import FiringAlert

T = TypeVar("T")
router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)

MAX_ALERTS = 1000
"""Alerts per notification; Alertmanager's ``max_alerts: 1000`` keeps it under (0 = no limit)."""
CHUNK = 20
"""Alerts written in one store transaction: what a failure rolls back and a retry raises again."""
MAX_TRACKED = 10_000
"""Firing fingerprints kept in the store (the least recently seen are forgotten past it):
forgetting one is safe, its repeat raises one more finding in the same incident."""
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


STOPPING = "the controller is stopping: send the notification again (to the new leader, if any)"


def _writer(request: Request) -> ThreadPoolExecutor:
    """The app's one thread for the receiver's store work (chunks in order, one at a time)."""
    state = request.app.state
    if getattr(state, "alert_writer_closed", False):
        raise TransientActionError(STOPPING, delay=5.0)
    writer: ThreadPoolExecutor | None = getattr(state, "alert_writer", None)
    if writer is None:
        writer = state.alert_writer = ThreadPoolExecutor(1, "vigil-alerts")
    return writer


async def _on_writer(writer: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
    try:
        future = writer.submit(fn, *args)
    except RuntimeError as exc:  # closed meanwhile (close_receiver): the chunks before are kept
        raise TransientActionError(STOPPING, delay=5.0) from exc
    return await asyncio.wrap_future(future)


def close_receiver(app: FastAPI) -> None:
    """End the receiver's writer thread once the chunk it is writing is done (blocks: the
    controller calls it on a worker thread when its server stops, before it stops persisting
    events, so that chunk's events are stored). Later notifications are answered 503."""
    app.state.alert_writer_closed = True
    writer: ThreadPoolExecutor | None = getattr(app.state, "alert_writer", None)
    if writer is not None:
        writer.shutdown(wait=True)


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
    receipt = _Receipt(payload.receiver, ctx, who, desk, _fleet(ctx), ctx.clock())
    writer = _writer(request)
    results: list[AlertResult] = []
    alerts = payload.alerts
    for first in range(0, len(alerts), CHUNK):
        chunk = alerts[first : first + CHUNK]
        results += await _on_writer(writer, _write_chunk, chunk, receipt)
    if any(r.outcome == "raised" for r in results):
        await _on_writer(writer, ctx.store.prune_firing_alerts, MAX_TRACKED)
    return ReceiveOut(
        alerts=len(alerts),
        raised=sum(r.outcome == "raised" for r in results),
        repeats=sum(r.outcome == "repeat" for r in results),
        resolved=sum(r.outcome == "resolved" for r in results),
        truncated=payload.truncatedAlerts,
        results=results,
    )


def _write_chunk(chunk: Sequence[AlertmanagerAlert], at: _Receipt) -> list[AlertResult]:
    """On the writer thread: one chunk of alerts, one transaction (rolled back whole on error)."""
    with at.desk.batch(f"receiving {len(chunk)} alerts from {at.receiver!r}"):
        return [_receive(alert, at) for alert in chunk]


@dataclass(frozen=True)
class _Receipt:
    """What every alert of one notification is received with."""

    receiver: str
    ctx: ApiContext
    who: Identity
    desk: IncidentDesk
    fleet: Fleet
    now: float


def _receive(alert: AlertmanagerAlert, at: _Receipt) -> AlertResult:
    """One alert of a chunk, inside the chunk's transaction (on the writer thread)."""
    ctx, who, desk, fleet, now = at.ctx, at.who, at.desk, at.fleet, at.now
    store = ctx.store
    reported = _epoch(alert.startsAt) or now
    finding = alert_finding(
        AlertIn(
            labels=alert.labels,
            annotations=alert.annotations,
            starts_at=reported,
            generator_url=alert.generatorURL,
            fingerprint=alert.fingerprint,
            received_at=now,
        ),
        fleet,
    )
    fingerprint = str(finding.evidence["fingerprint"])
    subject = finding.subject
    fired = store.get_firing_alert(fingerprint)
    if alert.status == "firing":
        # the start as reported, not as clamped (which moves with the clock): a repeat of the
        # same alert is still known as one
        firing = FiringAlert(fingerprint, subject, reported)
        active = desk.active(subject)
        if fired != firing or active is None:
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
        store.note_firing_alert(firing, seen_at=now)
        if fired is not None and fired.subject != subject:  # the fleet changed: it moved
            _settle(fired.subject, finding, at, now, f"now fires on {subject}")
        return _result(fingerprint, "firing", subject, outcome, incident.id)
    # settled on the subject it fired on: the fleet may have changed since (a restart that
    # added or removed its node would send the resolution elsewhere and leave it open)
    subject = fired.subject if fired is not None else subject
    store.drop_firing_alert(fingerprint)
    # an end in the future or ages ago (a wrong clock, a bad payload) is taken as now / the bound
    ended = min(clamp_start(_epoch(alert.endsAt) or now, now)[0], now)
    outcome, incident_id = _settle(subject, finding, at, ended, "resolved")
    return _result(fingerprint, "resolved", subject, outcome, incident_id)


def _settle(
    subject: str, finding: Finding, at: _Receipt, ended: float, how: str
) -> tuple[str, int | None]:
    """The alert of ``finding`` no longer fires on ``subject``: the incident it opened there
    resolves, unless another alert still fires on it (or a detector's finding is in it)."""
    others = at.ctx.store.count_firing_alerts(subject)
    active = at.desk.active(subject)
    if active is None or not _only_alerts(active.evidence):
        return "no_incident", None
    if others:
        return "still_firing", active.id
    at.desk.recovered(subject, ended, f"alertmanager: {finding.evidence['alertname']} {how}")
    at.ctx.audit(
        actor=at.who.name,
        action="alert.resolved",
        target=subject,
        reason=finding.summary,
        result=f"incident {active.id} resolved",
        detail={"fingerprint": finding.evidence["fingerprint"], "receiver": at.receiver},
    )
    return "resolved", active.id


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
