"""Fixtures for the remediation tests: a fake clock, an in-memory store and bus, the incident book
and action log, a FakeBackend, fake probe drivers, and a rig that runs one ReplicaRunner.

Nothing here starts a process or sleeps on wall time: the runner's task progresses only when the
test yields to the event loop (:meth:`Rig.until`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.backends import ProcessInfo
from vigil.backends.fake import FakeBackend
from vigil.bus import EventBus, Subscription
from vigil.model import ActionRecord, Event, HealthChanged, ProbeKind, Replica
from vigil.remediation import (
    ActionLog,
    HealingGate,
    IncidentBook,
    ReplicaPlan,
    ReplicaRunner,
    plan_replica,
)
from vigil.settings import (
    CrashLoop,
    HttpProbe,
    Probe,
    RestartPolicy,
    Service,
    TcpProbe,
)
from vigil.store import SqlStore

START = 1_700_000_000.0
SPIN_LIMIT = 1000
"""Event-loop turns :meth:`Rig.until` allows before it fails: far more than any flow needs."""


class FakeClock:
    """Wall-clock seconds that move only when the test (or the fake sleep) says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProbe:
    """A ProbeDriver that records start/stop and lets the test publish its verdicts."""

    def __init__(
        self, plan: ReplicaPlan, kind: ProbeKind, probe: Probe, bus: EventBus, clock: FakeClock
    ) -> None:
        self.plan = plan
        self.kind = kind
        self.probe = probe
        self._bus = bus
        self._clock = clock
        self.starts = 0
        self.stops = 0

    @property
    def running(self) -> bool:
        return self.starts > self.stops

    def start(self) -> None:
        self.starts += 1

    async def stop(self) -> None:
        self.stops += 1

    def report(self, healthy: bool, *, timed_out: bool = False, detail: str = "") -> None:
        """Publish this probe's verdict for its replica, as a real probe loop would."""
        self._bus.publish(
            HealthChanged(
                at=self._clock(),
                replica=self.plan.id,
                probe=self.kind,
                healthy=healthy,
                detail=detail or ("ok" if healthy else "probe failed"),
                timed_out=timed_out,
            )
        )


class FakeProbes:
    """A ProbeFactory that keeps every driver it made, oldest first."""

    def __init__(self, bus: EventBus, clock: FakeClock) -> None:
        self._bus = bus
        self._clock = clock
        self.made: list[FakeProbe] = []

    def __call__(self, plan: ReplicaPlan, kind: ProbeKind, probe: Probe) -> FakeProbe:
        driver = FakeProbe(plan, kind, probe, self._bus, self._clock)
        self.made.append(driver)
        return driver

    def latest(self, kind: ProbeKind) -> FakeProbe:
        return [d for d in self.made if d.kind == kind][-1]

    def running(self) -> list[FakeProbe]:
        return [d for d in self.made if d.running]


def service(**overrides: Any) -> Service:
    """A service with a liveness and a readiness probe and no backoff delays (no real waiting:
    the supervisor waits for a backoff on the event loop's real clock)."""
    fields: dict[str, Any] = {
        "name": "llm",
        "command": ["serve", "--port", "{port}"],
        "base_port": 9100,
        "liveness": Probe(tcp=TcpProbe()),
        "readiness": Probe(http=HttpProbe(path="/ready")),
        "restart": RestartPolicy(backoff_base=0.0, crash_loop=CrashLoop(max_restarts=3)),
        "stop_grace": 2.0,
    }
    fields.update(overrides)
    return Service(**fields)


class Rig:
    """One ReplicaRunner wired to real store/bus/incidents/actions and fake everything else."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock()
        self.bus = EventBus()
        self.store = SqlStore("sqlite://")
        self.incidents = IncidentBook(self.store, self.bus, self.clock)
        self.actions = ActionLog(self.store, self.bus, self.incidents, self.clock)
        self.backend = FakeBackend("test", clock=self.clock)
        self.probes = FakeProbes(self.bus, self.clock)
        self.events: Subscription = self.bus.subscribe("test recorder")
        self.seen: list[Event] = []
        self.sleeps: list[float] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)

    def runner(
        self,
        svc: Service | None = None,
        *,
        index: int = 0,
        adopt: ProcessInfo | None = None,
        previous: Replica | None = None,
        gate: HealingGate | None = None,
    ) -> ReplicaRunner:
        plan = plan_replica(svc or service(), index, log_dir=self.tmp_path)
        return ReplicaRunner(
            plan,
            backend=self.backend,
            bus=self.bus,
            store=self.store,
            incidents=self.incidents,
            actions=self.actions,
            probes=self.probes,
            clock=self.clock,
            sleep=self.sleep,
            adopt=adopt,
            previous=previous,
            gate=gate,
        )

    def start(self, runner: ReplicaRunner) -> asyncio.Task[None]:
        task = asyncio.create_task(runner.run(), name=f"runner {runner.plan.id}")
        self.tasks.append(task)
        return task

    async def until(self, condition: Callable[[], bool], what: str | Callable[[], str]) -> None:
        """Yield to the event loop until ``condition()`` holds; fail clearly if it never does.

        ``what`` describes the condition (a callable is evaluated at failure time, so it can show
        the state the runner got stuck in)."""
        for _ in range(SPIN_LIMIT):
            self._check_tasks()
            if condition():
                return
            await asyncio.sleep(0)
        self._check_tasks()
        described = what() if callable(what) else what
        pytest.fail(f"never happened within {SPIN_LIMIT} event-loop turns: {described}")

    async def spin(self, turns: int = 50) -> None:
        """Let the runner do whatever it would do next (to show that it does nothing)."""
        for _ in range(turns):
            await asyncio.sleep(0)
        self._check_tasks()

    async def stop_tasks(self) -> None:
        """Cancel the runners the way the daemon does before closing them."""
        for task in self.tasks:
            task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result

    def recorded(self, kind: type[Event]) -> list[Any]:
        """Every event of that type published so far (the recorder subscribed first)."""
        while (event := self.events.get_nowait()) is not None:
            self.seen.append(event)
        return [e for e in self.seen if isinstance(e, kind)]

    def actions_of(self, subject: str) -> list[ActionRecord]:
        """The subject's actions, oldest first."""
        return list(reversed(self.store.list_actions(subject=subject, limit=1000).items))

    def assert_every_action_audited(self) -> None:
        """Each finished action has exactly one audit entry that matches it; the chain verifies."""
        actions = list(self.store.list_actions(limit=1000).items)
        audit = list(self.store.list_audit(limit=1000).items)
        assert actions, "expected at least one action"
        by_action = {entry.detail["action_id"]: entry for entry in audit}
        assert len(by_action) == len(audit), "an action was audited twice"
        for action in actions:
            assert action.finished_at is not None, f"action never finished: {action}"
            entry = by_action[action.id]
            assert (entry.actor, entry.action, entry.target, entry.reason) == (
                action.actor,
                action.kind,
                action.subject,
                action.reason,
            )
            assert entry.result == ("ok" if action.ok else f"failed: {action.detail}")
        assert len(audit) == len(actions)
        assert self.store.verify_audit() is None

    def _check_tasks(self) -> None:
        for task in self.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"{task.get_name()} crashed") from task.exception()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def store() -> Iterator[SqlStore]:
    opened = SqlStore("sqlite://")
    yield opened
    opened.close()


@pytest.fixture
def incidents(store: SqlStore, bus: EventBus, clock: FakeClock) -> IncidentBook:
    return IncidentBook(store, bus, clock)


@pytest.fixture
def actions(store: SqlStore, bus: EventBus, incidents: IncidentBook, clock: FakeClock) -> ActionLog:
    return ActionLog(store, bus, incidents, clock)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    made = Rig(tmp_path)
    try:
        yield made
    finally:
        await made.stop_tasks()
        made.store.close()


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[SqlStore, SqlStore, SqlStore]]:
    """Three sessions on the suite's real PostgreSQL for the fence tests
    (test_fenced_pg.py, test_fenced_cut_pg.py): the old leader (leading as "controller A"),
    the controller that takes over, and a watcher that reads pg_locks."""
    old, new, watcher = SqlStore(pg_url), SqlStore(pg_url), SqlStore(pg_url)
    old.lead("controller A", at=1.0)
    yield old, new, watcher
    for store in (old, new, watcher):
        store.close()
