"""The Alertmanager receiver across a restart of the controller (or a standby's takeover on
PostgreSQL): a new app on the same store, SQLite and PostgreSQL, through the real app and
incident book. Its firing fingerprints lived in the app's memory only: a repeat raised its
finding again, and a resolution resolved its subject while another alert still fired on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from apifakes import NOW, build_app
from prometheus_client import CollectorRegistry
from test_api_alerts import AlertControl, alert, incidents, payload, post

from vigil.bus import EventBus
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

RESOLVED = {"status": "resolved", "ends": "2023-11-14T22:00:00Z"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/v.db"
    else:
        yield request.getfixturevalue("pg_url")


@asynccontextmanager
async def controller(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One life of a controller: its own store connection, incident book and app."""
    store = SqlStore(url)
    control = AlertControl(book=IncidentBook(store, EventBus(), lambda: NOW))
    app = build_app(control, store, CollectorRegistry())
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
            yield http
    finally:
        store.close()


A = {"name": "A", "fingerprint": "a1", "job": "web"}
B = {"name": "B", "fingerprint": "b1", "job": "web"}


async def test_a_repeat_after_a_restart_is_a_repeat(url: str) -> None:
    async with controller(url) as first:
        assert (await post(first, payload(alert(**A), alert(**B))))["raised"] == 2
    async with controller(url) as again:
        repeat = await post(again, payload(alert(**A), alert(**B)))  # its repeat_interval
        assert [r["outcome"] for r in repeat["results"]] == ["repeat", "repeat"]
        [incident] = await incidents(again, "service:web")
        assert incident["findings"] == 2


async def test_a_subject_resolves_after_a_restart_only_when_its_last_alert_does(url: str) -> None:
    async with controller(url) as first:
        assert (await post(first, payload(alert(**A), alert(**B))))["raised"] == 2
    async with controller(url) as again:
        one = await post(again, payload(alert(**A, **RESOLVED)))
        assert one["results"][0]["outcome"] == "still_firing"  # B still fires
        [incident] = await incidents(again, "service:web")
        assert incident["state"] == "open"
    async with controller(url) as third:
        last = await post(third, payload(alert(**B, **RESOLVED)))
        assert last["results"][0]["outcome"] == "resolved"
        [incident] = await incidents(third, "service:web")
        assert incident["state"] == "resolved"
