"""Alertmanager alerts whose labels or annotations hold control characters (a NUL templated in
from a metric's label, an escape sequence) are taken with those characters repaired, as log
lines are; they must not fail the notification. On PostgreSQL a NUL failed the incident's
write: the whole chunk of 20 alerts was rolled back and answered 500, and Alertmanager's retry
of the same notification failed again, for ever, so those alerts never arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from apifakes import NOW, bearer, build_app, serve
from prometheus_client import CollectorRegistry
from test_api_alerts import URL, AlertControl, alert, payload

from vigil.bus import EventBus
from vigil.remediation import IncidentBook
from vigil.store import SqlStore


@pytest.fixture
async def api(any_store: SqlStore) -> AsyncIterator[httpx.AsyncClient]:
    control = AlertControl(book=IncidentBook(any_store, EventBus(), lambda: NOW))
    app = build_app(control, any_store, CollectorRegistry())
    async with serve(app) as http:
        yield http


async def test_control_characters_in_an_alert_are_repaired_not_fatal(
    api: httpx.AsyncClient, any_store: SqlStore
) -> None:
    bad = alert("Disk\x00Full", fingerprint="bad1", device="sd\x00a")
    bad["annotations"] = {"summary": "disk \x1b[31mfull\x1b[0m on sd\x00a"}
    good = alert("GpuHot", fingerprint="good1")
    resp = await api.post(URL, json=payload(bad, good), headers=bearer("operator"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["raised"] == 2
    subjects = {i.subject: i for i in any_store.list_incidents().items}
    assert set(subjects) == {"alert:Disk\ufffdFull/bad1", "alert:GpuHot/good1"}
    assert subjects["alert:Disk\ufffdFull/bad1"].summary == (
        "alert Disk\ufffdFull: disk \ufffd[31mfull\ufffd[0m on sd\ufffda"
    )
    assert [e.reason for e in any_store.list_audit().items][-1].startswith("alert Disk\ufffdFull")


async def test_an_alert_with_a_very_long_name_gets_a_subject_that_fits(
    api: httpx.AsyncClient, any_store: SqlStore
) -> None:
    # subjects are 255 characters in the store: 'alert:<300 A>/<fp>' failed its incident's
    # write on PostgreSQL, a 500 for the whole chunk on every retry
    name = "A" * 300
    resp = await api.post(
        URL, json=payload(alert(name, fingerprint="f" * 64)), headers=bearer("operator")
    )
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    assert len(result["subject"]) <= 255
    assert result["subject"] == f"alert:{'A' * 183}…/{'f' * 64}"
    [incident] = any_store.list_incidents().items
    assert incident.subject == result["subject"]
    assert incident.evidence["findings"][0]["alertname"] == name  # the whole name is kept
