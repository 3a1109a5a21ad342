"""A takeover from another host: the old leader's replicas cannot be adopted here, and are
reported rather than silently lost (a real PostgreSQL, real controllers and processes).

Controller A leads and runs one replica, then stops with ``on_exit: leave`` (its replica's row
keeps the pid). The test then makes A's host another one: the ``leader`` row names a holder on
``other-host.example``, and A's replica process is killed, standing for a process on that host,
which this host can neither see nor adopt. Controller B leads next: it starts a new copy (as
before) and now opens an incident on ``host:other-host.example`` naming the replica and its pid
there, and writes an audit entry. On main nothing said so. A controller that then leads from
that host (``socket.gethostname`` patched to say so) resolves the incident.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest

from vigil.daemon._left_behind import away_host
from vigil.store import SqlStore

from ._support import eventually, replica_states, service, settled
from .conftest import OPERATOR, StartController

OTHER = "other-host.example"


def test_the_old_leaders_host_is_away_only_when_it_is_another_one() -> None:
    row = json.dumps({"epoch": 3, "holder": f"vigil controller pid 7 on {OTHER}", "since": 1.0})
    assert away_host(row, "here") == OTHER
    assert away_host(row, OTHER) is None
    assert away_host(None, "here") is None  # the first leader
    assert away_host("not json", "here") is None
    assert away_host(json.dumps({"epoch": 1}), "here") is None


@pytest.mark.slow
async def test_replicas_left_on_the_old_leaders_host_are_reported_by_the_new_leader(
    pg_url: str,
    tag: str,
    tmp_path: Path,
    start_controller: StartController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = service(tag, replicas=1)
    a = await start_controller({"store": {"url": pg_url}, "on_exit": "leave", "services": [svc]})
    await eventually(lambda: settled(a), 30, "A's replica ready", lambda: replica_states(a))
    info = a.runners["llm/0"].info  # type: ignore[index]
    assert info is not None
    await start_controller.stop(a)
    watcher = SqlStore(pg_url)
    try:
        row = json.loads(watcher.get_meta("leader") or "{}")
        assert row["holder"].endswith(f" on {socket.gethostname()}"), row
        row["holder"] = f"vigil controller pid 4242 on {OTHER}"
        watcher.set_meta("leader", json.dumps(row))
        os.kill(info.pid, signal.SIGKILL)  # on the other host: not to be seen from this one

        b = await start_controller(
            {"data_dir": str(tmp_path / "data-b"), "store": {"url": pg_url}, "services": [svc]}
        )
        await eventually(lambda: settled(b), 30, "B's new copy ready", lambda: replica_states(b))
        url = f"http://127.0.0.1:{b.api_port}"
        view = {"Authorization": f"Bearer {OPERATOR}"}
        async with httpx.AsyncClient(base_url=url, timeout=10, headers=view) as http:
            answer = await http.get("/api/v1/incidents", params={"state": "active"})
        assert answer.status_code == 200, answer.text
        left = [i for i in answer.json()["items"] if i["kind"] == "replicas_left"]
        assert [i["subject"] for i in left] == [f"host:{OTHER}"], answer.json()
        assert f"llm/0 (pid {info.pid})" in left[0]["summary"], left[0]["summary"]
        audit = [e for e in watcher.list_audit().items if e.action == "replicas.left_on_host"]
        assert [(e.target, e.detail["replicas"]) for e in audit] == [
            (f"host:{OTHER}", {"llm/0": info.pid})
        ]

        # a controller leading from that host again adopts or sweeps what was left there
        await start_controller.stop(b)
        monkeypatch.setattr(socket, "gethostname", lambda: OTHER)
        c = await start_controller(
            {"data_dir": str(tmp_path / "data-c"), "store": {"url": pg_url}, "services": [svc]}
        )
        await eventually(lambda: settled(c), 30, "C's replica ready", lambda: replica_states(c))
        (incident,) = [i for i in watcher.list_incidents().items if i.subject == f"host:{OTHER}"]
        assert incident.state.value == "resolved", incident
    finally:
        watcher.close()
