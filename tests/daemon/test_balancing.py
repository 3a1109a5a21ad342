"""End to end: the controller's balancer in front of real model-server replicas.

Requests go through the real proxy to real processes; the supervisor's verdicts take replicas in
and out of rotation; a replica killed with SIGKILL costs GET clients nothing (connect failures are
retried on another replica) and is out of rotation at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.backends import free_port
from vigil.daemon import Controller
from vigil.model import Replica

from ._support import eventually, replica_states, service, settled
from .conftest import OPERATOR, VIEWER, StartController


def balanced_service(tag: str, replicas: int = 3, **over: object) -> dict:
    balancer = {"policy": "round_robin", "slow_start": 0}
    return service(tag, replicas=replicas, balancer=balancer, **over)


async def balanced_fleet(start: StartController, tag: str) -> tuple[Controller, str]:
    controller = await start({"services": [balanced_service(tag)]})
    await eventually(
        lambda: settled(controller), 20, "every replica ready", lambda: replica_states(controller)
    )
    return controller, f"http://127.0.0.1:{controller.balancers.ports['llm']}"


def api(controller: Controller, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{controller.api_port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.mark.slow
async def test_requests_through_the_balancer_reach_every_ready_replica(
    start_controller: StartController, tag: str
) -> None:
    controller, url = await balanced_fleet(start_controller, tag)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        pids = set()
        for _ in range(9):
            response = await http.post("/v1/completions", json={"prompt": "hi"})
            assert response.status_code == 200
            pids.add(response.json()["pid"])
    running = {r.pid for r in controller.replicas("llm")}
    assert pids == running


@pytest.mark.slow
async def test_a_killed_replica_costs_get_clients_nothing_and_leaves_rotation_at_once(
    start_controller: StartController, tag: str
) -> None:
    controller, url = await balanced_fleet(start_controller, tag)
    victim = controller.runners["llm/0"].info  # type: ignore[index]
    assert victim is not None
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for i in range(60):
            if i == 10:
                os.kill(victim.pid, signal.SIGKILL)
            statuses.append((await http.get("/healthz")).status_code)
            await asyncio.sleep(0.01)
    assert statuses == [200] * 60
    status = controller.balancer_status("llm")
    assert status is not None
    # out of rotation (or back already, once the restarted replica is ready again)
    row = next(r for r in status.upstreams if r.id == "llm/0")
    replica = next(r for r in controller.replicas("llm") if r.id == "llm/0")
    assert row.eligible == (replica.pid not in (None, victim.pid) and replica.ready == "healthy")


@pytest.mark.slow
async def test_a_drained_replica_gets_no_new_requests_and_balance_load_shows_the_ranking(
    start_controller: StartController, tag: str
) -> None:
    controller, url = await balanced_fleet(start_controller, tag)
    drained = controller.runners["llm/1"].info  # type: ignore[index]
    assert drained is not None
    async with api(controller, OPERATOR) as ops:
        response = await ops.post("/api/v1/replicas/llm/1/balancer", json={"state": "draining"})
        assert response.status_code == 200, response.text
    async with api(controller, VIEWER) as viewer:
        pods = (await viewer.get("/balance_load", params={"service": "llm"})).json()
        view = (await viewer.get("/api/v1/services/llm/balancer")).json()
    assert sorted(p["replica"] for p in pods["load_balanced_pods"]) == ["llm/0", "llm/2"]
    assert sum(p["share"] for p in pods["load_balanced_pods"]) == pytest.approx(1.0)
    assert view["address"].endswith(url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        pids = {
            (await http.post("/v1/completions", json={"prompt": "x"})).json()["pid"]
            for _ in range(12)
        }
    assert drained.pid not in pids


def two_worker_service(tag: str, balance: str | None = None) -> dict[str, Any]:
    """Three replicas behind a round-robin balancer run by two worker processes (sharing
    connections as ``balance`` says; None: the default)."""
    balancer: dict[str, Any] = {"policy": "round_robin", "slow_start": 0, "workers": 2}
    if balance is not None:
        balancer["workers_balance"] = balance
    return service(tag, replicas=3, balancer=balancer)


async def settled_controller(start_controller: StartController, svc: dict[str, Any]) -> Controller:
    """A controller running ``svc``, once every replica is ready."""
    controller = await start_controller({"services": [svc]})
    await eventually(
        lambda: settled(controller), 20, "every replica ready", lambda: replica_states(controller)
    )
    return controller


async def pids_served(url: str, n: int) -> set[int]:
    """The replica pids that answered ``n`` requests, each on a fresh connection (so the kernel
    spreads them over the balancer's worker processes)."""
    seen = set()
    for _ in range(n):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            seen.add((await http.post("/v1/completions", json={"prompt": "x"})).json()["pid"])
    return seen


@pytest.mark.slow
async def test_worker_processes_serve_the_port_and_follow_drains_and_health(
    start_controller: StartController, tag: str
) -> None:
    svc = two_worker_service(tag)
    controller = await settled_controller(start_controller, svc)
    group = controller.balancers.workers["llm"]
    assert len(group.workers.pids) == 2
    assert os.getpid() not in group.workers.pids
    assert group.workers.table is None  # the kernel's connection balance, the default
    url = f"http://127.0.0.1:{controller.balancers.ports['llm']}"

    running = {r.pid for r in controller.replicas("llm")}
    assert await pids_served(url, 30) == running
    drained = controller.runners["llm/1"].info  # type: ignore[index]
    assert drained is not None
    async with api(controller, OPERATOR) as ops:
        response = await ops.post("/api/v1/replicas/llm/1/balancer", json={"state": "draining"})
        assert response.status_code == 200, response.text
    await group.flush()
    assert await pids_served(url, 30) == running - {drained.pid}
    # a health verdict made by the controller reaches the workers too
    controller.balancers.set_health("llm/2", False)
    await group.flush()
    only = controller.runners["llm/0"].info  # type: ignore[index]
    assert only is not None
    assert await pids_served(url, 10) == {only.pid}
    # a replica added after the workers started reaches them with its address: with every
    # configured replica out of rotation, only the new one can answer
    port = controller.runners["llm/0"].replica.port  # type: ignore[index]
    added = Replica(id="llm/9", service="llm", index=9, node="local", port=port)
    controller.balancers.add_replica(added, healthy=True)
    for rid in ("llm/0", "llm/1", "llm/2"):
        controller.balancers.admin(rid, state="maint", weight=None)
    await group.flush()
    assert await pids_served(url, 6) == {only.pid}
    status = controller.balancers.status("llm")
    assert status is not None and "llm/9" in {row.id for row in status.upstreams}


@pytest.mark.slow
async def test_drain_and_weight_survive_a_controller_restart_until_an_operator_readies(
    start_controller: StartController, tag: str
) -> None:
    # an operator drains a replica for maintenance: a restart of Vigil must not put it back
    svc = two_worker_service(tag)
    controller = await settled_controller(start_controller, svc)
    async with api(controller, OPERATOR) as ops:
        drained = await ops.post("/api/v1/replicas/llm/1/balancer", json={"state": "draining"})
        weighed = await ops.post("/api/v1/replicas/llm/2/balancer", json={"weight": 3})
        assert drained.status_code == weighed.status_code == 200, drained.text + weighed.text
    await start_controller.stop(controller)

    async def restarted() -> tuple[Controller, str]:
        again = await start_controller({"services": [svc]})
        await eventually(
            lambda: settled(again), 20, "every replica ready", lambda: replica_states(again)
        )
        await again.balancers.workers["llm"].flush()
        return again, f"http://127.0.0.1:{again.balancers.ports['llm']}"

    controller, url = await restarted()
    pool = controller.balancers.pools["llm"]
    assert pool.get("llm/1").state == "draining"
    assert pool.get("llm/2").configured_weight == 3
    assert pool.get("llm/0").state == "ready" and pool.get("llm/0").configured_weight == 1
    pid = {rid: controller.runners[rid].replica.pid for rid in ("llm/0", "llm/1", "llm/2")}
    assert await pids_served(url, 24) == {pid["llm/0"], pid["llm/2"]}
    async with api(controller, OPERATOR) as ops:
        response = await ops.post("/api/v1/replicas/llm/1/balancer", json={"state": "ready"})
        assert response.status_code == 200, response.text
    await start_controller.stop(controller)

    controller, url = await restarted()
    assert controller.balancers.pools["llm"].get("llm/1").state == "ready"
    assert controller.balancers.pools["llm"].get("llm/2").configured_weight == 3
    running = {r.pid for r in controller.replicas("llm")}
    assert await pids_served(url, 30) == running
    changes = [e for e in controller.store.list_audit(limit=100).items if e.action == "balancer"]
    assert [(e.target, e.result) for e in changes] == [
        ("replica:llm/1", "ok"),
        ("replica:llm/2", "ok"),
        ("replica:llm/1", "ok"),
    ]


@pytest.mark.slow
async def test_a_restored_drain_holds_in_the_workers_from_their_first_request(
    start_controller: StartController, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A drain kept across a restart reached the worker processes as an update sent after they
    # had started to accept: a request in those ms could go to the drained replica. Here no
    # operator's change is ever sent to the restarted workers (health verdicts still are): the
    # drain must hold all the same, from what the workers were started with.
    from vigil.balancer.proxy import PoolUpdate
    from vigil.daemon._balancer_workers import WorkerGroup

    svc = two_worker_service(tag, "exact")
    controller = await settled_controller(start_controller, svc)
    assert controller.balancers.workers["llm"].workers.table is not None  # one shared socket
    async with api(controller, OPERATOR) as ops:
        drained = await ops.post("/api/v1/replicas/llm/1/balancer", json={"state": "draining"})
        assert drained.status_code == 200, drained.text
    await start_controller.stop(controller)

    withheld: list[PoolUpdate] = []
    send = WorkerGroup.send

    def health_only(group: WorkerGroup, update: PoolUpdate) -> None:
        if update.state is None and update.weight is None:
            send(group, update)
        else:
            withheld.append(update)

    monkeypatch.setattr(WorkerGroup, "send", health_only)
    again = await settled_controller(start_controller, svc)
    await again.balancers.workers["llm"].flush()
    url = f"http://127.0.0.1:{again.balancers.ports['llm']}"
    pid = {rid: again.runners[rid].replica.pid for rid in ("llm/0", "llm/1", "llm/2")}
    assert await pids_served(url, 24) == {pid["llm/0"], pid["llm/2"]}, withheld


def test_an_unreadable_kept_balancer_state_is_logged_by_key_and_the_replica_starts_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import CollectorRegistry

    from vigil.daemon._balancing import ADMIN_KEY, Balancers, restore_admin
    from vigil.settings import Settings
    from vigil.store import SqlStore

    settings = Settings.model_validate(
        {"services": [balanced_service("t-unit", base_port=free_port())]}
    )
    balancers = Balancers(settings.services, CollectorRegistry())
    for index in (0, 1):
        balancers.add_replica(
            Replica(id=f"llm/{index}", service="llm", index=index, node="local", port=9)
        )
    store = SqlStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    try:
        store.set_meta(ADMIN_KEY + "llm/0", "{not json")
        store.set_meta(ADMIN_KEY + "llm/1", '{"state": "maint", "weight": 2}')
        restore_admin(store, balancers, ["llm/0", "llm/1", "llm/7"])
    finally:
        store.close()
    assert balancers.admin_state("llm/0") == ("ready", 1.0)
    assert balancers.admin_state("llm/1") == ("maint", 2.0)
    assert f"meta '{ADMIN_KEY}llm/0'" in caplog.text


async def test_a_drain_ends_with_its_replica_when_the_service_is_scaled_down(
    start_controller: StartController, tag: str
) -> None:
    # llm/2 drained, then scaled away: the llm/2 of a later scale-up is a new replica, ready
    async def fleet(replicas: int) -> Controller:
        return await start_controller({"services": [balanced_service(tag, replicas=replicas)]})

    controller = await fleet(3)
    controller.balancer_admin("llm/2", state="draining", weight=None)  # type: ignore[arg-type]
    await start_controller.stop(controller)
    await start_controller.stop(await fleet(2))
    controller = await fleet(3)
    assert controller.balancers.admin_state("llm/2") == ("ready", 1.0)


async def test_a_proxy_in_the_controller_s_process_settles_its_collector_as_a_worker_does() -> None:
    # with a new connection per request, CPython's defaults cost the controller-sized process
    # 21-26 % of its CPU in the collector, settled 7.2-8.0 % (bench/controller_gc.py)
    import gc

    from prometheus_client import CollectorRegistry

    from vigil.balancer._proxy_workers import GC_YOUNG_THRESHOLD
    from vigil.daemon._balancing import Balancers
    from vigil.settings import Settings

    settings = Settings.model_validate(
        {"services": [balanced_service("t-gc", base_port=free_port())]}
    )
    threshold = gc.get_threshold()
    balancers = Balancers(settings.services, CollectorRegistry(), own_process=True)
    try:
        gc.set_threshold(700, *threshold[1:])
        await balancers.start()
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    finally:
        await balancers.stop(0.5)
        gc.unfreeze()
        gc.set_threshold(*threshold)
