"""The controller: settings in, one task group of loops out (supervisors, node monitor, persister,
log rotation, the API server; for metrics: the rollup flusher, scrape / PromQL sources and the
risk model's sampling).

``vigil up`` and ``vigil demo`` construct a :class:`Controller` and await :meth:`Controller.run`;
tests and benchmarks do the same in-process. It implements the API's
:class:`~vigil.api.ControlPlane`. On start it adopts the replicas an earlier run left behind
(after ``kill -9``) and kills any stray process of its own instance, so replicas never run twice
(:mod:`vigil.daemon._replica_setup`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from vigil import web
from vigil.api import (
    BalancerStatus,
    ControlPlane,
    GuardsView,
    HeartbeatAck,
    LogService,
    RiskView,
    create_app,
)
from vigil.backends import ProcessBackend, ProcessInfo
from vigil.backends.local import LocalBackend
from vigil.balancer import NoFit, Placement, TaskNeeds, UpstreamStatus, place
from vigil.bus import EventBus
from vigil.collectors import ProbeLoop, Sample, SeriesStore, host_facts
from vigil.daemon._balancing import Balancers, restore_admin, save_admin
from vigil.daemon._guards import guard_views
from vigil.daemon._left_behind import LEADER_ROW, away_host, came_home
from vigil.daemon._listen import bind_api, start_balancers
from vigil.daemon._lock import DatabaseLock, DataDirLock, StoreLock
from vigil.daemon._logs import LogPipeline
from vigil.daemon._logs_counts import LogCounts
from vigil.daemon._metrics import (
    ControllerMetrics,
    NodeCollector,
    PipelineCollector,
    ReplicaCollector,
)
from vigil.daemon._nodes import NodeMonitor
from vigil.daemon._persist import persist_events
from vigil.daemon._placement import is_own_host, own_host_up, placement_capacity
from vigil.daemon._replica_setup import build_runners
from vigil.daemon._risk import NodeRisk
from vigil.daemon._rollups import RollupFlusher
from vigil.daemon._rule_restore import restore_rule_breaches
from vigil.daemon._samples import SampleIntake, rule_spec
from vigil.daemon._scrape import SourceLoop
from vigil.daemon._server import MAX_BODY, ApiServer
from vigil.daemon._stalls import FREEZE_AFTER, StallWatch
from vigil.daemon._writer import LoopPublisher, OrderedWriter
from vigil.detectors import RuleEngine
from vigil.errors import BackendError, NotFoundError
from vigil.model import (
    ACTIVE_INCIDENT_STATES,
    ActionRecord,
    Health,
    Node,
    NodeStatus,
    ProbeKind,
    Replica,
    ReplicaId,
    ReplicaState,
)
from vigil.remediation import (
    ActionLog,
    Command,
    FencedBackend,
    HealingGate,
    IncidentBook,
    NeverLiveLedger,
    ReplicaPlan,
    ReplicaRunner,
)
from vigil.settings import (
    Probe,
    PromQuery,
    ScrapeTarget,
    Settings,
)
from vigil.store import DatabaseClaim, SqlStore, Store, claim_path

log = logging.getLogger("vigil.daemon")

LOG_ROTATE_EVERY = 5.0
"""Seconds between log-size checks: a chatty replica writes at most a few MB in that time."""
RISK_HISTORY = 100_000
"""Node status changes read from the store to seed the risk model (newest first)."""
ACTIVE = ACTIVE_INCIDENT_STATES


async def cancelled(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again what is still
    running: on Python 3.11 ``asyncio.wait_for`` loses a cancellation that arrives as its inner
    future completes, and a runner that lost it would wait for a command forever."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)


class Controller(ControlPlane):
    def __init__(
        self,
        settings: Settings,
        *,
        base_dir: Path,
        clock: Callable[[], float] = time.time,
        backend: ProcessBackend | None = None,
        store: Store | None = None,
        serve_api: bool = True,
        freeze_gc: bool = False,
    ) -> None:
        self.settings = settings
        self.data_dir = settings.resolved_data_dir(base_dir)
        self._base_dir = base_dir
        self.clock = clock
        self.bus = EventBus()
        self.registry = CollectorRegistry()
        self.metrics = ControllerMetrics(self.registry)
        self.registry.register(ReplicaCollector(lambda: self.replicas()))
        self.registry.register(
            # as GET /api/v1/nodes lists them: the controller's own host up without an agent
            NodeCollector(lambda: self.nodes() if hasattr(self, "monitor") else ())
        )
        # loop lag and GC pauses on /metrics; with freeze_gc (vigil up: a process of its own),
        # long-lived objects are frozen out of full collections after a slow one
        self.stalls = StallWatch(freeze_after=FREEZE_AFTER if freeze_gc else None)
        self.registry.register(self.stalls)
        self._own_process = freeze_gc  # its balancers may settle the collector too
        self._backend_arg = backend
        self._store_arg = store
        self._serve_api = serve_api
        self._lock = DataDirLock(self.data_dir)
        self._leave_replicas = False  # set when another controller took the store over
        self._db_lock: DatabaseLock | None = None  # a PostgreSQL store's claim: lead it
        self._stop = asyncio.Event()
        self.started = asyncio.Event()
        self.runners: dict[ReplicaId, ReplicaRunner] = {}
        self.api_port: int | None = None
        self._node_settings = {n.name: n for n in settings.nodes}
        # the controller's own host, listed up with no agent (nodes()): only when one declared
        # node is; several at this host's address stand for agents run here (the demo's, a
        # bench's), and each waits for its own heartbeat, or an agent that never came is "up"
        host = socket.gethostname()
        own = frozenset(n.name for n in settings.nodes if is_own_host(n, host))
        self._own_hosts = own if len(own) == 1 else frozenset()
        self._own_view: tuple[tuple[Node, ...], tuple[Node, ...]] | None = None
        self._rng = random.Random()
        self._last_placed: str | None = None
        metrics = settings.metrics
        self.series = SeriesStore(
            metrics.max_series,
            metrics.ring,
            max_per_name=metrics.max_series_per_metric,
            keep_closed=True,
            settings_prefix="metrics.",
        )
        self.risk = NodeRisk(step=metrics.risk_step, steps=metrics.risk_steps)
        sources: list[ScrapeTarget | PromQuery] = [*metrics.scrape, *metrics.promql]
        self.rules = RuleEngine([rule_spec(r) for r in settings.rules])
        self.intake = SampleIntake(self.series, self.rules, lambda: self.incidents, clock)
        self.sources = [SourceLoop(source, self.intake.ingest, clock=clock) for source in sources]
        self.registry.register(
            PipelineCollector(
                self._log_counts,
                self.rules,
                lambda: self.intake.refused,
                lambda: self.flusher.saturated if hasattr(self, "flusher") else 0,
                lambda: self.intake.resent,
            )
        )
        self.instance = ""

    def _active_incident_ids(self) -> list[int]:
        """The ids of the incidents the store holds active (for ``vigil_incidents_active``)."""
        ids: list[int] = []
        while True:
            page = self.store.list_incidents(
                offset=len(ids), limit=1000, states=ACTIVE_INCIDENT_STATES
            )
            ids += [int(incident.id) for incident in page.items]
            if not page.items or len(ids) >= page.total:
                return ids

    # --- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        self._lock.acquire()
        store_lock: StoreLock | DatabaseLock | None = None
        watch = None
        try:
            if self._store_arg is None:  # one controller per store, whatever its data dir
                url = self.settings.store_url(self._base_dir)
                path = claim_path(url)
                if path is not None:
                    store_lock = StoreLock(path, url)
                    store_lock.acquire()
                elif DatabaseClaim.applies(url):
                    store_lock = DatabaseLock(url)
                    if not self.settings.store.standby:
                        store_lock.acquire()
                    elif not await store_lock.wait_for(self._stop):
                        return  # stopped while standing by
                    self._db_lock = store_lock
                    watch = asyncio.create_task(store_lock.watch(self._claim_lost))
            await self._run()
        finally:
            if watch is not None:
                watch.cancel()
            if store_lock is not None:
                store_lock.release()
            self._lock.release()

    def _claim_lost(self, holder: str) -> None:
        """Another controller leads the store now: stop, leaving the replicas to it."""
        log.error("lost the store to another controller (%s): stopping", holder)
        self._leave_replicas = True
        self.stop()

    def _fenced(self, message: str) -> None:
        """A write was refused: another controller leads the store. Stop, as _claim_lost."""
        log.error("%s: stopping, leaving the replicas to the new leader", message)
        self._leave_replicas = True
        self.stop()

    async def _run(self) -> None:
        self.store = self._store_arg or SqlStore(self.settings.store_url(self._base_dir))
        away: str | None = None  # the old leader's host, when not this one
        if self._db_lock is not None and isinstance(self.store, SqlStore):
            away = away_host(self.store.get_meta(LEADER_ROW), socket.gethostname())
            # before anything is read to act on: the old leader's writes end here
            lead = self._db_lock.lead(
                self.store, at=self.clock(), on_lost=self._fenced, stop=self._stop
            )
            if not await lead:
                self.store.close()
                return
        self.instance = self._instance_id()
        self.backend = self._backend_arg or LocalBackend(self.instance)
        # what the runners act on hosts with: refused once another controller leads the store
        self.hosts = FencedBackend(
            self.backend,
            store=self.store,
            hold=self.store.holding_lead if isinstance(self.store, SqlStore) else None,
            clock=self.clock,
            on_lost=self._fenced,
        )
        self.incidents = IncidentBook(self.store, self.bus, self.clock)
        self.metrics.seed_active(self._active_incident_ids())
        self.actions = ActionLog(self.store, self.bus, self.incidents, self.clock)
        self.monitor = NodeMonitor(
            self.settings,
            store=self.store,
            bus=self.bus,
            incidents=self.incidents,
            actions=self.actions,
            clock=self.clock,
            monotonic=time.monotonic,  # silences never judged across a step of the wall clock
        )
        self.logs = LogPipeline(
            self.settings.logs,
            state_path=self.data_dir / "log-analysis.json",
            bus=self.bus,
            incidents=self.incidents,
            store=self.store,
            clock=self.clock,
        )
        persister = self.bus.subscribe("persister")
        self.flusher = RollupFlusher(
            self.series, self.store, self.settings.metrics, clock=self.clock
        )
        self._seed_risk()
        restore_rule_breaches(self.store, self.rules, self.incidents, self.clock())
        self.balancers = Balancers(
            self.settings.services, self.registry, own_process=self._own_process
        )
        # the guards on automatic healing, shared by every runner (blast radius per service);
        # the never-live counts outlive a restart, written off the loop in order
        self._ledger_writes = OrderedWriter("vigil-never-live", "a never-live count write")
        self.gate = HealingGate(
            self.settings.remediation,
            self.settings.services,
            clock=self.clock,
            admin_state=self._admin_state,
            ledger=NeverLiveLedger(self.store, submit=self._ledger_writes.submit),
        )
        self.runners = build_runners(
            self.settings,
            store=self.store,
            backend=self.hosts,
            gate=self.gate,
            incidents=self.incidents,
            clock=self.clock,
            log_dir=self.data_dir / "logs",
            make_runner=self._runner,
            away=away,
        )
        if self._db_lock is not None:  # replicas reported left on this host are its own again
            came_home(self.incidents, self.clock, socket.gethostname())
        for runner in self.runners.values():
            self.balancers.add_replica(runner.replica)
        restore_admin(self.store, self.balancers, self.runners)  # drains outlive a restart
        server = None
        try:
            server = self._api_server() if self._serve_api else None
            # before the task group: a port that cannot be had is a ConfigError of its own,
            # not one wrapped in the group's ExceptionGroup (which the CLI showed as a traceback)
            try:
                await start_balancers(self.balancers, self.settings.services)
            except BaseException:
                if server is not None:
                    server.close()
                raise
            async with asyncio.TaskGroup() as tg:
                persist = tg.create_task(persist_events(persister, self.store, self.metrics))
                runners = [
                    tg.create_task(r.run(), name=f"runner {r.plan.id}")
                    for r in self.runners.values()
                ]
                loops = [tg.create_task(self.monitor.run()), tg.create_task(self._housekeeping())]
                log_pipeline = tg.create_task(self.logs.run(), name="log pipeline")
                metric_loops = [
                    tg.create_task(self.flusher.run()),
                    tg.create_task(self._risk_loop()),
                    tg.create_task(self.stalls.run()),
                ]
                metric_loops += [tg.create_task(src.run()) for src in self.sources]
                if server is not None:
                    loops.append(tg.create_task(server.serve()))
                self.started.set()
                await self._stop.wait()
                # Order matters: stop serving (stop accepting, finish the requests in flight,
                # at most DRAIN_SECONDS: their events must be persisted), stop supervising (so
                # nothing restarts what we are stopping), stop the processes, then let the
                # persister drain the last events.
                if server is not None:
                    await server.stop()
                await self.balancers.stop()
                for task in runners + loops[:2] + metric_loops:
                    task.cancel()
                log_pipeline.cancel()  # saves the log state on its way out
                # its queued incident writes publish events: before the persister stops
                await asyncio.gather(log_pipeline, return_exceptions=True)
                await asyncio.gather(*metric_loops, return_exceptions=True)
                await self.flusher.flush(final=True)
                await cancelled(runners)
                stop = self.settings.on_exit == "stop" and not self._leave_replicas
                await asyncio.gather(*(r.close(stop=stop) for r in self.runners.values()))
                persister.close()
                await persist
        finally:
            if hasattr(self, "backend"):
                self.backend.close()
            if hasattr(self, "_ledger_writes"):  # the counts queued, before the store closes
                await asyncio.to_thread(self._ledger_writes.close)
            self.store.close()

    def _instance_id(self) -> str:
        """A stable id for this controller's data dir; marks every process it starts."""
        instance = self.store.get_meta("instance")
        if instance is None:
            instance = uuid.uuid4().hex[:12]
            self.store.set_meta("instance", instance)
        return instance

    def _runner(
        self, plan: ReplicaPlan, adopted: ProcessInfo | None, previous: Replica | None
    ) -> ReplicaRunner:
        """The supervisor of one replica, wired to this controller (for :func:`build_runners`)."""
        return ReplicaRunner(
            plan,
            backend=self.hosts,
            bus=self.bus,
            store=self.store,
            incidents=self.incidents,
            actions=self.actions,
            probes=self._probe_factory,
            clock=self.clock,
            adopt=adopted,
            previous=previous,
            on_change=self.balancers.replica_changed,
            gate=self.gate,
        )

    def _admin_state(self, replica: str) -> str | None:
        """The replica's balancer admin state as an operator set it (None: not balanced)."""
        try:
            return self.balancers.admin_state(replica)[0]
        except NotFoundError:
            return None

    def _probe_factory(self, plan: ReplicaPlan, kind: ProbeKind, probe: Probe) -> ProbeLoop:
        return ProbeLoop(plan.id, kind, probe, plan.port, self.bus, clock=self.clock)

    def _api_server(self) -> ApiServer:
        app = create_app(
            settings=self.settings,
            store=self.store,
            control=self,
            registry=self.registry,
            clock=self.clock,
            extra_routers=(web.router,),
        )
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto says
        # TCP; without it Nagle + delayed ACKs add ~40 ms to every answer sent in two writes
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind_api(sock, self.settings.api.host, self.settings.api.port)
        self.api_port = int(sock.getsockname()[1])
        return ApiServer(app, sock, max_body=MAX_BODY, max_push=self.settings.logs.push_max_bytes)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(LOG_ROTATE_EVERY)
            await asyncio.to_thread(self._rotate_logs)

    def _rotate_logs(self) -> None:
        for runner in list(self.runners.values()):
            try:
                self.backend.rotate_logs(runner.plan.spec)
            except BackendError as exc:  # one unreadable log must not stop the others
                log.warning("log rotation of %s failed: %s", runner.plan.id, exc)

    # --- ControlPlane --------------------------------------------------------------------------

    def services(self) -> Sequence[str]:
        return [s.name for s in self.settings.services]

    def replicas(self, service: str | None = None) -> Sequence[Replica]:
        if service is not None and service not in self.services():
            raise NotFoundError("service", service)
        return [
            r.replica
            for r in self.runners.values()
            if service is None or r.replica.service == service
        ]

    def nodes(self) -> Sequence[Node]:
        # the controller's own host, with no agent, is up as placement counts it; derived once
        # per monitor snapshot, so the API still re-sends the same JSON for the same tuple
        seen = self.monitor.nodes()
        if self._own_view is None or self._own_view[0] is not seen:
            shown = own_host_up(seen, self._own_hosts, own_facts=host_facts, now=self.clock())
            self._own_view = (seen, shown)
        return self._own_view[1]

    async def replica_command(
        self, replica: ReplicaId, command: Command, *, actor: str, reason: str
    ) -> ActionRecord:
        runner = self.runners.get(replica)
        if runner is None:
            raise NotFoundError("replica", replica)
        return runner.command(command, actor=actor, reason=reason)

    def heartbeat(
        self,
        node: str,
        seq: int,
        info: Mapping[str, Any],
        *,
        peer: str | None = None,
        address: str | None = None,
    ) -> HeartbeatAck:
        status = self.monitor.heartbeat(node, seq, info, peer=peer, address=address)
        return HeartbeatAck(interval=self.monitor.interval, node_status=status.value)

    def balancer_status(self, service: str) -> BalancerStatus | None:
        if service not in self.services():
            raise NotFoundError("service", service)
        return self.balancers.status(service)

    def balancer_admin(
        self, replica: ReplicaId, *, state: str | None, weight: float | None
    ) -> UpstreamStatus:
        if replica not in self.runners:
            raise NotFoundError("replica", replica)
        save_admin(self.store, self.balancers, replica, state=state, weight=weight)
        return self.balancers.admin(replica, state=state, weight=weight)

    def place(self, needs: TaskNeeds, policy: str) -> Placement | NoFit:
        nodes = placement_capacity(
            self.monitor.nodes(),
            self._node_settings,
            own=self._own_hosts,
            own_facts=host_facts,
        )
        result = place(needs, nodes, policy, self._rng, last=self._last_placed)
        if isinstance(result, Placement):
            self._last_placed = result.node
        return result

    def ingest_samples(self, node: str, samples: Sequence[Sample]) -> list[str]:
        if node not in self._node_settings:
            raise NotFoundError("node", node)
        return self.intake.ingest(samples)

    def _log_counts(self) -> tuple[LogCounts, int] | None:
        """The log pipeline's counts and templates known, for ``/metrics`` (None before it runs)."""
        logs: LogPipeline | None = getattr(self, "logs", None)
        return None if logs is None else (logs.counts, len(logs.registry))

    def series_store(self) -> SeriesStore:
        return self.series

    def log_service(self) -> LogService:
        return self.logs

    def healing_guards(self) -> Sequence[GuardsView]:
        ids = {s: [str(r.id) for r in self.replicas(s)] for s in self.services()}
        return guard_views(self.gate, lambda service: ids.get(service, []), self.clock())

    def incident_desk(self) -> IncidentBook:  # the Alertmanager receiver's (vigil.api._alerts)
        # used on the receiver's writer thread: its events go to the loop's bus in order
        desk: IncidentBook | None = getattr(self, "_alert_desk", None)
        if desk is None:
            publisher = LoopPublisher(self.bus, asyncio.get_running_loop())
            desk = self._alert_desk = IncidentBook(self.store, publisher, self.clock)
        return desk

    def node_risk(self, node: str) -> RiskView:
        # a dict lookup: GET /api/v1/risk asks once per node, and scanning every node each
        # time cost ~115 ms of the loop per call at 1,000 nodes (the views ~20 ms)
        status = self.monitor.status_of(node)
        if status is None:
            raise NotFoundError("node", node)
        if status is NodeStatus.UNKNOWN and node in self._own_hosts:
            status = NodeStatus.UP  # as nodes() shows it
        return self.risk.view(node, status.value)

    def _seed_risk(self) -> None:
        """Teach the risk model the node status history kept in the store."""
        changes: list[tuple[float, str, str]] = []
        offset, page = 0, 1000
        while offset < RISK_HISTORY:
            events = self.store.list_events(kind="node.status", offset=offset, limit=page)
            for ev in events.items:
                node, new = ev.data.get("node"), ev.data.get("new")
                if isinstance(node, str) and isinstance(new, str):
                    changes.append((ev.at, node, new))
            offset += page
            if offset >= events.total:
                break
        self.risk.seed(changes, self.clock())

    async def _risk_loop(self) -> None:
        await self.risk.run(lambda: {n.name: n.status.value for n in self.nodes()})

    def healthy_replicas(self, service: str) -> Sequence[Replica]:
        return [
            r
            for r in self.replicas(service)
            if r.state == ReplicaState.RUNNING and r.ready == Health.HEALTHY
        ]

    def fault_detected(self) -> bool:
        return self.store.list_incidents(limit=1, states=ACTIVE).total > 0

    async def auto_maintain(self, *, actor: str) -> bool:
        """Rotate logs, check the audit chain, give failed replicas a fresh start."""
        await asyncio.to_thread(self._rotate_logs)
        # a walk of the whole chain (~1 s per 20,000 entries): never on the loop
        intact = await asyncio.to_thread(self.store.verify_audit) is None
        for runner in self.runners.values():
            if runner.replica.state == ReplicaState.FAILED:
                runner.command("restart", actor=actor, reason="auto_maintain: fresh start")
        return intact
