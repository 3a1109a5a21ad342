"""The Alertmanager receiver across a restart of the controller (or a standby's takeover on
PostgreSQL): a new app on the same store, SQLite and PostgreSQL, through the real app and
incident book. Its firing fingerprints lived in the app's memory only: a repeat raised its
finding again, and a resolution resolved its subject while another alert still fired on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from apifakes import NOW, build_app, serve
from prometheus_client import CollectorRegistry
from test_api_alerts import AlertControl, alert, incidents, payload, post

from vigil.bus import EventBus
from vigil.model import Node
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

RESOLVED = {"status": "resolved", "ends": "2023-11-14T22:00:00Z"}


@asynccontextmanager
async def controller(url: str, nodes: list[str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """One life of a controller: its own store connection, incident book and app; its
    configured nodes are ``nodes`` (the fake control plane's own when None)."""
    store = SqlStore(url)
    control = AlertControl(book=IncidentBook(store, EventBus(), lambda: NOW))
    if nodes is not None:
        control.node_list = [Node(name=name) for name in nodes]
    try:
        async with serve(build_app(control, store, CollectorRegistry())) as http:
            yield http
    finally:
        store.close()


A = {"name": "A", "fingerprint": "a1", "job": "web"}
B = {"name": "B", "fingerprint": "b1", "job": "web"}


async def test_a_repeat_after_a_restart_is_a_repeat(db_url: str) -> None:
    async with controller(db_url) as first:
        assert (await post(first, payload(alert(**A), alert(**B))))["raised"] == 2
    async with controller(db_url) as again:
        repeat = await post(again, payload(alert(**A), alert(**B)))  # its repeat_interval
        assert [r["outcome"] for r in repeat["results"]] == ["repeat", "repeat"]
        [incident] = await incidents(again, "service:web")
        assert incident["findings"] == 2


async def test_a_subject_resolves_after_a_restart_only_when_its_last_alert_does(
    db_url: str,
) -> None:
    async with controller(db_url) as first:
        assert (await post(first, payload(alert(**A), alert(**B))))["raised"] == 2
    async with controller(db_url) as again:
        one = await post(again, payload(alert(**A, **RESOLVED)))
        assert one["results"][0]["outcome"] == "still_firing"  # B still fires
        [incident] = await incidents(again, "service:web")
        assert incident["state"] == "open"
    async with controller(db_url) as third:
        last = await post(third, payload(alert(**B, **RESOLVED)))
        assert last["results"][0]["outcome"] == "resolved"
        [incident] = await incidents(third, "service:web")
        assert incident["state"] == "resolved"
