"""POST /api/v1/alerts/alertmanager through the real app, a real SQLite store and incident book."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from apifakes import NOW, FakeControl, bearer, build_app
from prometheus_client import CollectorRegistry

from vigil.api import _alerts, close_receiver
from vigil.bus import EventBus
from vigil.errors import StoreBusy
from vigil.model import Event, Finding, FindingKind, Incident, IncidentState
from vigil.remediation import IncidentBook
from vigil.store import Store

URL = "/api/v1/alerts/alertmanager"


@dataclass
class AlertControl(FakeControl):
    """The fake control plane with a real incident book on the test's store."""

    book: IncidentBook | None = field(default=None)

    def incident_desk(self) -> IncidentBook:
        assert self.book is not None
        return self.book


class FailsOnTheSecond(IncidentBook):
    """An incident book whose second finding raised fails as a locked database does."""

    calls = 0

    def raise_finding(self, finding: Finding) -> Incident:
        self.calls += 1
        if self.calls == 2:
            raise StoreBusy("database is locked")
        return super().raise_finding(finding)


@pytest.fixture
def control(store: Store) -> AlertControl:
    return AlertControl(book=IncidentBook(store, EventBus(), lambda: NOW))


def alert(
    name: str = "GpuHot",
    *,
    status: str = "firing",
    fingerprint: str = "f00d",
    starts: str = "2023-11-14T21:00:00Z",
    ends: str = "0001-01-01T00:00:00Z",
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="GpuHot"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "vigil",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


async def post(client: httpx.AsyncClient, body: dict[str, Any], role: str = "operator") -> Any:
    answer = await client.post(URL, json=body, headers=bearer(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def incidents(client: httpx.AsyncClient, subject: str) -> list[dict[str, Any]]:
    answer = await client.get(
        "/api/v1/incidents", params={"subject": subject}, headers=bearer("viewer")
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_firing_opens_one_incident_repeats_join_resolved_resolves(
    client: httpx.AsyncClient, store: Store
) -> None:
    fire = payload(alert(instance="node-a:9100", severity="critical"))
    first = await post(client, fire)
    assert first["raised"] == 1
    assert first["results"][0]["subject"] == "node:node-a"
    [incident] = await incidents(client, "node:node-a")
    assert incident["kind"] == "external_alert"
    assert incident["severity"] == "critical"
    assert incident["state"] == "open"
    assert incident["summary"] == "alert GpuHot: GpuHot summary"
    evidence = incident["evidence"]["findings"][0]
    assert evidence["generator_url"].startswith("http://prometheus:9090")
    assert evidence["labels"]["instance"] == "node-a:9100"

    for _ in range(3):  # Alertmanager repeats every repeat_interval
        again = await post(client, fire)
        assert again["repeats"] == 1 and again["raised"] == 0
    [same] = await incidents(client, "node:node-a")
    assert same["id"] == incident["id"] and same["findings"] == 1

    ended = alert(
        instance="node-a:9100", status="resolved", ends="2023-11-14T21:10:00Z", severity="critical"
    )
    done = await post(client, payload(ended))
    assert done["resolved"] == 1
    [closed] = await incidents(client, "node:node-a")
    assert closed["state"] == "resolved"
    assert closed["resolved_at"] == datetime.fromisoformat("2023-11-14T21:10:00+00:00").timestamp()
    actions = [e.action for e in store.list_audit().items]
    assert actions.count("alert.firing") == 1 and actions.count("alert.resolved") == 1

    repeat_resolved = await post(client, payload(ended))  # Alertmanager resends resolutions too
    assert repeat_resolved["resolved"] == 0
    assert repeat_resolved["results"][0]["outcome"] == "no_incident"


async def test_subject_resolves_only_when_its_last_alert_does(client: httpx.AsyncClient) -> None:
    await post(client, payload(alert("A", fingerprint="a1", job="web")))
    await post(client, payload(alert("B", fingerprint="b1", job="web")))
    [incident] = await incidents(client, "service:web")
    assert incident["findings"] == 2
    half = await post(client, payload(alert("A", fingerprint="a1", job="web", status="resolved")))
    assert half["results"][0]["outcome"] == "still_firing"
    [still] = await incidents(client, "service:web")
    assert still["state"] == "open"
    await post(client, payload(alert("B", fingerprint="b1", job="web", status="resolved")))
    [closed] = await incidents(client, "service:web")
    assert closed["state"] == "resolved"


async def test_resolved_alert_leaves_a_detectors_incident_alone(
    client: httpx.AsyncClient, control: AlertControl
) -> None:
    assert control.book is not None
    control.book.raise_finding(
        Finding(kind=FindingKind.NODE_DOWN, subject="node:node-b", at=NOW, summary="node down")
    )
    await post(client, payload(alert(hostname="node-b")))
    [joined] = await incidents(client, "node:node-b")
    assert joined["kind"] == "node_down" and joined["findings"] == 2
    answer = await post(client, payload(alert(hostname="node-b", status="resolved")))
    assert answer["results"][0]["outcome"] == "no_incident"
    [still] = await incidents(client, "node:node-b")
    assert still["state"] == IncidentState.OPEN.value


async def test_unknown_labels_make_an_alert_subject_and_a_refire_reopens(
    client: httpx.AsyncClient,
) -> None:
    await post(client, payload(alert("DiskFull", fingerprint="d1", instance="db:9100")))
    await post(client, payload(alert("DiskFull", fingerprint="d1", status="resolved")))
    await post(client, payload(alert("DiskFull", fingerprint="d1", starts="2023-11-14T22:00:00Z")))
    items = await incidents(client, "alert:DiskFull/d1")
    assert [i["state"] for i in items] == ["open", "resolved"]


async def test_auth_needs_the_operator_role(client: httpx.AsyncClient) -> None:
    body = payload(alert())
    missing = await client.post(URL, json=body)
    assert missing.status_code == 401
    assert "Bearer" in missing.headers["www-authenticate"]
    viewer = await client.post(URL, json=body, headers=bearer("viewer"))
    assert viewer.status_code == 403
    assert "operator role" in viewer.json()["detail"]


@pytest.mark.parametrize(
    ("mutate", "field_name"),
    [
        (lambda b: b["alerts"][0].update(status="pending"), "body.alerts.0.status"),
        (lambda b: b["alerts"][0].pop("labels"), "body.alerts.0.labels"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "body.alerts.0.startsAt"),
        (lambda b: b["alerts"][0]["labels"].update(n=1), "body.alerts.0.labels.n"),
        (lambda b: b.pop("receiver"), "body.receiver"),
        (lambda b: b.update(alerts=b["alerts"] * (_alerts.MAX_ALERTS + 1)), "body.alerts"),
    ],
)
async def test_bad_payload_is_a_422_naming_the_field(
    client: httpx.AsyncClient, mutate: Any, field_name: str
) -> None:
    body = copy.deepcopy(payload(alert()))
    mutate(body)
    answer = await client.post(URL, json=body, headers=bearer("operator"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(field_name + ":"), answer.json()["detail"]
    assert await incidents(client, "node:node-a") == []


async def test_a_notification_that_failed_half_way_is_raised_in_full_on_retry(
    client: httpx.AsyncClient,
    control: AlertControl,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A chunk per alert: the first chunk is committed (a repeat on retry), the second not."""
    monkeypatch.setattr(_alerts, "CHUNK", 1)

    control.book = FailsOnTheSecond(store, EventBus(), lambda: NOW)
    body = payload(alert("A", fingerprint="a1", job="web"), alert("B", fingerprint="b1", job="web"))
    failed = await client.post(URL, json=body, headers=bearer("operator"))
    assert failed.status_code == 503  # Alertmanager retries it
    retried = await post(client, body)
    assert [r["outcome"] for r in retried["results"]] == ["repeat", "raised"]
    [incident] = await incidents(client, "service:web")
    assert incident["findings"] == 2


async def test_a_chunk_that_failed_half_way_is_rolled_back_whole_and_raised_on_retry(
    client: httpx.AsyncClient, control: AlertControl, store: Store
) -> None:
    """Both alerts in one chunk (one transaction): the failure on the second rolls back the
    first too, nothing is published, and the retry raises both once, with one audit entry."""
    events: list[Event] = []

    class Recording(EventBus):
        def publish(self, event: Event) -> None:
            events.append(event)

    control.book = FailsOnTheSecond(store, Recording(), lambda: NOW)
    body = payload(alert("A", fingerprint="a1", job="web"), alert("B", fingerprint="b1", job="web"))
    failed = await client.post(URL, json=body, headers=bearer("operator"))
    assert failed.status_code == 503
    assert events == []
    assert await incidents(client, "service:web") == []
    assert [e.action for e in store.list_audit().items] == []
    retried = await post(client, body)
    assert [r["outcome"] for r in retried["results"]] == ["raised", "raised"]
    [incident] = await incidents(client, "service:web")
    assert incident["findings"] == 2
    assert [e.action for e in store.list_audit().items].count("alert.firing") == 1
    assert [e.kind for e in events].count("finding.raised") == 2


async def test_a_large_notification_lets_the_loop_run_while_its_chunks_are_written(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunks are written on the receiver's thread: heartbeats run on the loop meanwhile."""
    monkeypatch.setattr(_alerts, "CHUNK", 10)
    ticks = 0
    stop = False

    async def other_work() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    body = payload(*[alert(f"A{i}", fingerprint=f"n{i}") for i in range(60)])
    task = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = ticks
    answer = await post(client, body)
    stop = True
    await task
    assert answer["raised"] == 60
    assert ticks - before >= 60 // 10


async def test_a_notification_after_the_receiver_closed_is_answered_503_and_stores_nothing(
    control: AlertControl, store: Store
) -> None:
    app = build_app(control, store, CollectorRegistry())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        assert (await post(http, payload(alert(fingerprint="one"))))["raised"] == 1
        close_receiver(app)  # the controller is stopping
        answer = await http.post(
            URL, json=payload(alert("Other", fingerprint="two")), headers=bearer("operator")
        )
        assert answer.status_code == 503, answer.text
        assert "stopping" in answer.json()["detail"] and answer.headers["Retry-After"] == "5"
    assert store.get_firing_alert("two") is None
