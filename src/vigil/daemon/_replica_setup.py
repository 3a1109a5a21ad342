"""The replicas a controller supervises on start: one runner per configured replica, the live
processes of an earlier run adopted (after ``kill -9``, or a standby's takeover), everything
else of this instance swept, and what was taken out of the config forgotten.

Called once by :meth:`vigil.daemon.Controller.run` (through :func:`build_runners`), before its
loops start; the controller passes in how one runner is wired (``make_runner``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vigil.backends import ProcessBackend, ProcessInfo
from vigil.daemon._balancing import forget_admin
from vigil.daemon._guards import guards_changed, released, save_global_guards
from vigil.daemon._left_behind import report_left
from vigil.model import Replica, ReplicaId, ReplicaState
from vigil.remediation import (
    HealingGate,
    IncidentBook,
    NeverLive,
    ReplicaPlan,
    ReplicaRunner,
    plan_replica,
)
from vigil.settings import Settings
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

MakeRunner = Callable[[ReplicaPlan, ProcessInfo | None, Replica | None], ReplicaRunner]
"""``(plan, adopted process or None, the replica's previous state or None) -> runner``."""


def _operator_stop(stored: Replica | None) -> Replica | None:
    """What a replica of a changed service keeps from the last run: an operator's stop (held,
    stopped), and nothing else; a replica the crash-loop guard gave up on (held, failed) gets
    the fresh start a changed config deserves, like every other."""
    if stored is None or not stored.held or stored.state == ReplicaState.FAILED:
        return None
    return dataclasses.replace(stored, state=ReplicaState.STOPPED, pid=None, restarts=0)


def _definition(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What a service runs, from its stored settings: all but its ``remediation`` guards (a
    spec stored before that section existed compares equal too)."""
    return {key: value for key, value in spec.items() if key != "remediation"}


def _adopt(backend: ProcessBackend, plan: ReplicaPlan, old: Replica | None) -> ProcessInfo | None:
    if old is None or old.pid is None or old.create_time is None or old.port != plan.port:
        return None
    info = backend.adopt(plan.id, old.pid, old.create_time)
    if info is not None:
        log.info("adopted %s (pid %d) from an earlier run", plan.id, old.pid)
    return info


def build_runners(
    settings: Settings,
    *,
    store: Store,
    backend: ProcessBackend,
    gate: HealingGate,
    incidents: IncidentBook,
    clock: Callable[[], float],
    log_dir: Path,
    make_runner: MakeRunner,
    away: str | None = None,
) -> dict[ReplicaId, ReplicaRunner]:
    """One runner per configured replica; adopt live processes, sweep everything else.
    ``away``: the old leader's host when it is not this one (a standby's takeover from another
    host): the processes it left there are reported (:mod:`vigil.daemon._left_behind`)."""
    left: list[tuple[ReplicaId, int]] = []
    runners: dict[ReplicaId, ReplicaRunner] = {}
    known = {r.id: r for r in store.list_replicas()}
    applied = store.list_services()
    keep: list[ProcessInfo] = []
    wanted: set[ReplicaId] = set()
    for position, svc in enumerate(settings.services):
        spec = svc.model_dump(mode="json")
        # A changed service (command, env, probes...) is started afresh: adopting a process
        # that runs the old command would silently ignore the new config.
        # (its healing guards are not part of what runs: changing them replaces nothing)
        unchanged = svc.name in applied and _definition(applied[svc.name]) == _definition(spec)
        if not unchanged and svc.name in applied:
            log.info("service %s changed since the last run: replacing its replicas", svc.name)
        # its guards alone changed: a replica they escalated as never live is released
        reguarded = unchanged and guards_changed(store, settings, svc, applied[svc.name])
        store.upsert_service(svc.name, spec)
        for index in range(svc.replicas):
            rid = ReplicaId(f"{svc.name}/{index}")
            stored = known.get(rid)
            old = stored if unchanged else None
            if reguarded and released(stored, gate.never_live(rid)):
                log.info("%s: its guards changed since it was escalated: a fresh start", rid)
                old = None
            if old is None:  # a fresh start: no restart of an earlier run counts
                gate.set_never_live(rid, NeverLive())
            plan = plan_replica(
                svc,
                index,
                log_dir=log_dir,
                port=old.port if old and not svc.base_port else None,
                config_index=position,
            )
            adopted = _adopt(backend, plan, old)
            if adopted is not None:
                keep.append(adopted)
            elif away and stored is not None and stored.pid is not None:
                left.append((rid, stored.pid))
            wanted.add(plan.id)
            runners[plan.id] = make_runner(plan, adopted, old or _operator_stop(stored))
    gone = sorted(set(known) - wanted)
    left += [(rid, pid) for rid in gone if away and (pid := known[rid].pid) is not None]
    if away and left:
        report_left(store=store, incidents=incidents, clock=clock, host=away, left=left)
    for rid in gone:  # taken out of the config: gone, with its problems
        store.delete_replica(rid)
        forget_admin(store, rid)
        gate.forget_never_live(rid)
        incidents.recovered(f"replica:{rid}", clock(), "removed from the configuration")
    save_global_guards(store, settings)
    configured = {s.name for s in settings.services}
    for name in set(store.list_services()) - configured:
        store.delete_service(name)
    swept = backend.sweep(keep)
    if swept:
        log.warning("killed %d stray replica process(es) of an earlier run: %s", len(swept), swept)
    return runners
