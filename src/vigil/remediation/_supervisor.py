"""The replica supervisor: keeps one replica's process running, probed and healed.

One :class:`ReplicaRunner` per replica runs as a task in the daemon's task group. It starts (or
adopts) the process through a :class:`~vigil.backends.ProcessBackend`, runs its liveness and
readiness probes, and reacts to the three ways a replica goes wrong: the process exits, the
liveness probe fails (a timeout means hung: kill it), or an operator command arrives. Restarts
follow :class:`~vigil.remediation._guards.RestartBudget` (backoff, crash-loop guard). Every
finding goes to the :class:`IncidentBook`, every action to the :class:`ActionLog`.
Created and driven by :class:`vigil.daemon.Controller`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from vigil.backends import ProcessBackend, ProcessInfo
from vigil.bus import EventBus, Subscription
from vigil.errors import BackendError, StoreError
from vigil.model import (
    ActionRecord,
    Event,
    Finding,
    FindingKind,
    Health,
    HealthChanged,
    ProbeKind,
    Replica,
    ReplicaExited,
    ReplicaStarted,
    ReplicaState,
    Severity,
)
from vigil.remediation._actions import ActionLog
from vigil.remediation._guards import RestartBudget, should_restart
from vigil.remediation._incidents import IncidentBook
from vigil.remediation._plan import ReplicaPlan
from vigil.settings import Probe
from vigil.store import Store

log = logging.getLogger(__name__)

Command = Literal["start", "stop", "restart"]
STORE_RETRY = 1.0
"""Seconds before supervision goes on after the store refused a write (it may still be busy)."""


class ProbeDriver(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...


ProbeFactory = Callable[[ReplicaPlan, ProbeKind, Probe], ProbeDriver]


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "exited (code unknown: adopted process)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


class ReplicaRunner:
    """Supervises one replica until :meth:`close`."""

    def __init__(
        self,
        plan: ReplicaPlan,
        *,
        backend: ProcessBackend,
        bus: EventBus,
        store: Store,
        incidents: IncidentBook,
        actions: ActionLog,
        probes: ProbeFactory,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        adopt: ProcessInfo | None = None,
        previous: Replica | None = None,
        on_change: Callable[[Replica], None] | None = None,
    ) -> None:
        self.plan = plan
        self._backend = backend
        self._bus = bus
        self._store = store
        self._incidents = incidents
        self._actions = actions
        self._probe_factory = probes
        self._clock = clock
        self._sleep = sleep
        self._adopt = adopt
        self._budget = RestartBudget(plan.service.restart)
        self._on_change = on_change
        held = previous is not None and previous.held
        self._want_running = not held
        self._commands: asyncio.Queue[tuple[Command, ActionRecord]] = asyncio.Queue()
        self._closing = False
        self._task: asyncio.Task[Any] | None = None
        self._info: ProcessInfo | None = None
        self._stopping: ProcessInfo | None = None  # a stop under way: close() finishes it
        self.subject = f"replica:{plan.id}"
        self.replica = Replica(
            id=plan.id,
            service=plan.service.name,
            index=plan.index,
            node=plan.node,
            port=plan.port,
            restarts=previous.restarts if previous else 0,
            log_path=plan.spec.log_path,
            held=held,
            state=_held_state(previous, adopt) if previous and held else ReplicaState.PENDING,
        )

    # --- public -----------------------------------------------------------------------------

    @property
    def info(self) -> ProcessInfo | None:
        return self._info

    def command(self, cmd: Command, *, actor: str, reason: str) -> ActionRecord:
        """Queue an operator command; returns the action record (finished by the run loop)."""
        action = self._actions.begin(cmd, self.subject, actor=actor, reason=reason)
        self._commands.put_nowait((cmd, action))
        return action

    async def close(self, *, stop: bool) -> None:
        """End supervision; stop the process when ``stop`` (else leave it for adoption).

        Supervision ends first, so the stop is never mistaken for a crash and restarted."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        while not self._commands.empty():  # queued, never carried out: ended and audited as such
            _, action = self._commands.get_nowait()
            self._abandon(action, "not carried out: supervision ended")
        # a stop that supervision ending cut short (its grace wait cancelled) is finished too
        info = self._info or self._stopping
        if stop and info is not None:
            self._info = self._stopping = None
            await self._backend.stop(info, self.plan.service.stop_grace)
            self._set_gone(ReplicaState.STOPPED)

    async def run(self) -> None:
        self._task = asyncio.current_task()
        sub = self._bus.subscribe(
            f"runner:{self.plan.id}",
            accept=lambda e: isinstance(e, HealthChanged) and e.replica == self.plan.id,
        )
        try:
            if not self._want_running:  # held by an operator in an earlier run
                if self._adopt is not None:
                    await self._finish_stop(self._adopt)
                else:
                    self._set()  # its state as shown (see _held_state) in the store too
            while not self._closing:
                try:
                    await self._step(sub)
                except StoreError as exc:
                    # the store refused a write (SQLite busy past its timeout, disk full): this
                    # replica goes on being supervised; its row and records catch up later
                    log.error("%s: %s; supervision goes on", self.plan.id, exc)
                    await self._sleep(STORE_RETRY)
                except BackendError as exc:
                    # a process that cannot be stopped (alive after SIGKILL: stuck in the kernel,
                    # a GPU driver call): no restart beside it; a person has to look
                    log.error("%s: %s", self.plan.id, exc)
                    self._set_gone(ReplicaState.FAILED)
                    self._give_up(f"{self.plan.id}: {exc}; stopped supervising, needs a person")
        finally:
            sub.close()

    async def _step(self, sub: Subscription) -> None:
        if self._info is None:
            if not self._want_running:
                await self._handle_command(await self._commands.get())
                return
            if await self._launch() is None:
                return
        assert self._info is not None
        await self._supervise(self._info, sub)

    async def _finish_stop(self, info: ProcessInfo) -> None:
        """An operator's stop that the last controller did not finish (it went down while the
        process was still alive): the process is stopped now instead of left unsupervised."""
        self._adopt = None
        log.info("%s: finishing an operator's stop of pid %d", self.plan.id, info.pid)
        rc = await self._stop(info)
        self._set_gone(ReplicaState.STOPPED, exit_code=rc)

    # --- one run of the process ---------------------------------------------------------------

    async def _launch(self, action: ActionRecord | None = None) -> ProcessInfo | None:
        adopted, self._adopt = self._adopt, None
        try:
            info = adopted or await self._backend.start(self.plan.spec)
        except BackendError as exc:
            if action is not None:
                self._actions.end(action, ok=False, detail=str(exc))
            self._set(state=ReplicaState.FAILED, pid=None)
            summary = f"{self.plan.id} could not start: {exc}"
            self._incidents.raise_finding(
                self._finding(FindingKind.START_FAILED, summary, Severity.CRITICAL, error=str(exc))
            )
            self._give_up(summary)
            return None
        self._info = info
        now = self._clock()
        self._set(
            state=ReplicaState.RUNNING,
            pid=info.pid,
            create_time=info.create_time,
            started_at=now,
            exit_code=None,
            live=Health.UNKNOWN,
            ready=Health.UNKNOWN,
        )
        self._bus.publish(
            ReplicaStarted(at=now, replica=self.plan.id, pid=info.pid, adopted=info.adopted)
        )
        if action is not None:
            self._actions.end(action, ok=True, detail=f"started pid {info.pid}")
        return info

    async def _supervise(self, info: ProcessInfo, sub: Subscription) -> None:
        while sub.get_nowait() is not None:  # verdicts about the previous process are stale
            pass
        drivers = self._start_probes()
        if not drivers:
            self._became_ready()
        exited = asyncio.ensure_future(self._backend.wait(info))
        outcome: tuple[str, object] | None = None
        waiting: list[asyncio.Future[Any]] = [exited]
        try:
            while outcome is None:
                next_event = asyncio.ensure_future(sub.get())
                next_cmd = asyncio.ensure_future(self._commands.get())
                waiting[1:] = [next_event, next_cmd]
                done, _ = await asyncio.wait(
                    {exited, next_event, next_cmd},
                    timeout=self._start_deadline(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:  # still not live after start_timeout
                    outcome = (
                        "unhealthy",
                        HealthChanged(
                            at=self._clock(),
                            replica=self.plan.id,
                            probe=ProbeKind.LIVENESS,
                            healthy=False,
                            detail=f"not live {self.plan.service.start_timeout:g}s "
                            "after start (start_timeout)",
                        ),
                    )
                # Priority: a command, then the exit, then a health verdict. A pending get() is
                # cancelled without losing its item (asyncio.Queue guarantees that).
                outcome = outcome or self._pick(done, exited, next_event, next_cmd)
                for fut in (next_event, next_cmd):
                    if not fut.done():
                        fut.cancel()
        finally:
            if outcome is None:  # cancelled (shutdown): leave no pending waiter behind
                for waiter in waiting:
                    waiter.cancel()
                # a command the getter took but the loop never carried out: close() ends it
                taken = waiting[2] if len(waiting) > 2 else None
                if taken is not None and taken.done() and not taken.cancelled():
                    self._commands.put_nowait(taken.result())
            for driver in drivers:
                await driver.stop()
        kind, value = outcome
        if kind == "exit":
            self._info = None
            await self._after_exit(info, value if isinstance(value, int) else None)
        elif kind == "unhealthy":
            assert isinstance(value, HealthChanged)
            await self._after_liveness_failure(info, value)
            exited.cancel()
        else:
            await self._handle_command(value, info)  # type: ignore[arg-type]
            exited.cancel()

    def _pick(
        self,
        done: set[Any],
        exited: asyncio.Future[int | None],
        next_event: asyncio.Future[Event | None],
        next_cmd: asyncio.Future[tuple[Command, ActionRecord]],
    ) -> tuple[str, object] | None:
        if next_cmd in done:
            return ("command", next_cmd.result())
        if exited in done:
            return ("exit", exited.result())
        event = next_event.result() if next_event in done else None
        if isinstance(event, HealthChanged):
            return self._on_health(event)
        return None

    def _on_health(self, event: HealthChanged) -> tuple[str, object] | None:
        verdict = Health.HEALTHY if event.healthy else Health.UNHEALTHY
        if event.probe == ProbeKind.LIVENESS:
            was_live = self.replica.live == Health.HEALTHY
            self._set(live=verdict)
            if self.plan.service.readiness is None and event.healthy:
                self._became_ready()
            if event.healthy or not was_live:  # still starting: start_timeout judges that
                return None
            return ("unhealthy", event)
        was_ready = self.replica.ready == Health.HEALTHY
        self._set(ready=verdict)
        if event.healthy:
            self._became_ready()
        elif was_ready:  # not ready yet while starting is normal; losing readiness is a finding
            self._incidents.raise_finding(
                self._finding(
                    FindingKind.READINESS_FAILING,
                    f"{self.plan.id} not ready: {event.detail}",
                    detail=event.detail,
                )
            )
        return None

    def _give_up(self, reason: str) -> None:
        """Stop restarting until an operator command; escalate to a person (audited)."""
        self._want_running = False
        self._set(held=True)
        self._actions.escalate(self.subject, reason)

    def _start_deadline(self) -> float | None:
        """Seconds left for a starting process to become live; None once it has been live."""
        if self.plan.service.liveness is None or self.replica.live == Health.HEALTHY:
            return None
        started = self.replica.started_at or self._clock()
        return max(0.0, started + self.plan.service.start_timeout - self._clock())

    def _became_ready(self) -> None:
        self._set(ready=Health.HEALTHY)
        self._incidents.recovered(self.subject, self._clock(), "ready again")

    # --- reactions ---------------------------------------------------------------------------

    async def _after_exit(self, info: ProcessInfo, returncode: int | None) -> None:
        now = self._clock()
        self._bus.publish(
            ReplicaExited(
                at=now, replica=self.plan.id, pid=info.pid, returncode=returncode, expected=False
            )
        )
        self._set_gone(ReplicaState.EXITED, exit_code=returncode)  # out of rotation at once
        what = describe_exit(returncode)
        policy = self.plan.service.restart.policy
        # A clean exit under on-failure / never is a finished job, not a fault.
        finished = returncode == 0 and not should_restart(policy, returncode)
        if not finished:
            self._incidents.raise_finding(
                self._finding(
                    FindingKind.PROCESS_EXITED,
                    f"{self.plan.id} {what}",
                    Severity.WARNING if returncode == 0 else Severity.CRITICAL,
                    returncode=returncode,
                    pid=info.pid,
                )
            )
        # The leader is gone, not necessarily its group: workers it forked (holding the port, a
        # GPU) would outlive it beside the replacement. Stopping the group clears them.
        await self._stop(info)
        if finished:
            self._want_running = False
            return
        await self._maybe_restart(now, what, returncode)

    async def _after_liveness_failure(self, info: ProcessInfo, event: HealthChanged) -> None:
        kind = FindingKind.HUNG if event.timed_out else FindingKind.LIVENESS_FAILING
        what = "hung (liveness probe timed out)" if event.timed_out else "liveness failing"
        self._incidents.raise_finding(
            self._finding(
                kind,
                f"{self.plan.id} {what}: {event.detail}",
                Severity.CRITICAL,
                detail=event.detail,
                pid=info.pid,
            )
        )
        self._info = None
        await self._stop(info)
        now = self._clock()
        self._bus.publish(
            ReplicaExited(
                at=now, replica=self.plan.id, pid=info.pid, returncode=None, expected=True
            )
        )
        self._set(state=ReplicaState.EXITED, pid=None, live=Health.UNHEALTHY, ready=Health.UNKNOWN)
        await self._maybe_restart(now, what, None)

    async def _maybe_restart(self, now: float, what: str, returncode: int | None) -> None:
        started = self.replica.started_at or now
        self._budget.note_exit(started, now)
        policy = self.plan.service.restart
        if not should_restart(policy.policy, returncode):
            self._give_up(
                f"{self.plan.id} {what}; restart policy {policy.policy!r} says no restart"
            )
            return
        if self._budget.crash_looping(now):
            self._set(state=ReplicaState.FAILED)
            count = self._budget.recent_restarts(now)
            summary = (
                f"{self.plan.id} crash loop: {count} restarts in {policy.crash_loop.window:g}s, "
                f"last {what}; stopped restarting, needs a person"
            )
            self._incidents.raise_finding(
                self._finding(
                    FindingKind.CRASH_LOOP,
                    summary,
                    Severity.CRITICAL,
                    restarts=count,
                    window=policy.crash_loop.window,
                )
            )
            self._give_up(summary)
            return
        delay = self._budget.next_delay()
        action = self._actions.begin(
            "restart", self.subject, reason=f"{what}; restart after {delay:g}s backoff"
        )
        try:
            interrupted = delay > 0 and await self._interrupted_by_command(delay)
        except asyncio.CancelledError:  # supervision ended during the backoff
            self._abandon(action, "not carried out: supervision ended")
            raise
        if interrupted:
            self._actions.end(action, ok=False, detail="superseded by an operator command")
            return
        self._budget.note_restart(self._clock())
        self._set(state=ReplicaState.PENDING, restarts=self.replica.restarts + 1)
        await self._launch(action)

    async def _interrupted_by_command(self, delay: float) -> bool:
        """Wait out a backoff (on the injected sleep); an operator command cuts it short."""
        nap = asyncio.ensure_future(self._sleep(delay))
        cmd = asyncio.ensure_future(self._commands.get())
        try:
            await asyncio.wait({nap, cmd}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # no waiter left behind to take a later command
            nap.cancel()
            if not cmd.cancel() and not cmd.cancelled():  # taken already: close() ends it
                self._commands.put_nowait(cmd.result())
            raise
        if not cmd.done():
            cmd.cancel()
            return False
        nap.cancel()
        await self._handle_command(cmd.result())
        return True

    async def _handle_command(
        self, item: tuple[Command, ActionRecord], info: ProcessInfo | None = None
    ) -> None:
        cmd, action = item
        info = info or self._info
        if cmd == "start" and info is not None:
            self._actions.end(action, ok=True, detail=f"already running as pid {info.pid}")
            return
        if cmd == "stop":  # held first: a controller stopped mid-stop must not relaunch it
            self._want_running = False
            self._set(held=True)
        if cmd in ("stop", "restart") and info is not None:
            self._info = None
            try:
                rc = await self._stop(info)
            except BackendError as exc:
                self._actions.end(action, ok=False, detail=str(exc))
                raise
            except asyncio.CancelledError:
                self._abandon(action, "cut short: supervision ended during the stop")
                raise
            self._bus.publish(
                ReplicaExited(
                    at=self._clock(),
                    replica=self.plan.id,
                    pid=info.pid,
                    returncode=rc,
                    expected=True,
                )
            )
            self._set_gone(ReplicaState.STOPPED, exit_code=rc)
        if cmd == "stop":
            self._actions.end(action, ok=True, detail="stopped")
            return
        self._budget.reset()
        self._want_running = True
        self._set(state=ReplicaState.PENDING, held=False)
        await self._launch(action)

    # --- helpers -----------------------------------------------------------------------------

    async def _stop(self, info: ProcessInfo) -> int | None:
        """Stop ``info``'s process group. Cancelled meanwhile (supervision ended during the
        grace period), the stop stays recorded for :meth:`close` to finish."""
        self._stopping = info
        try:
            rc = await self._backend.stop(info, self.plan.service.stop_grace)
        except BackendError:
            self._stopping = None  # cannot be stopped: not tried again at close
            raise
        self._stopping = None
        return rc

    def _abandon(self, action: ActionRecord, detail: str) -> None:
        """End an action that supervision ending cut short: failed, with ``detail``, audited."""
        try:
            self._actions.end(action, ok=False, detail=detail)
        except StoreError as exc:
            log.error("%s: action %d not stored as ended: %s", self.subject, action.id, exc)

    def _start_probes(self) -> list[ProbeDriver]:
        drivers = []
        for kind, probe in (
            (ProbeKind.LIVENESS, self.plan.service.liveness),
            (ProbeKind.READINESS, self.plan.service.readiness),
        ):
            if probe is not None:
                driver = self._probe_factory(self.plan, kind, probe)
                driver.start()
                drivers.append(driver)
        return drivers

    def _finding(
        self,
        kind: FindingKind,
        summary: str,
        severity: Severity = Severity.WARNING,
        **evidence: object,
    ) -> Finding:
        return Finding(
            kind=kind,
            subject=self.subject,
            at=self._clock(),
            summary=summary,
            severity=severity,
            evidence={"replica": self.plan.id, **evidence},
        )

    def _set(self, **changes: object) -> None:
        self.replica = dataclasses.replace(self.replica, **changes)  # type: ignore[arg-type]
        if self._on_change is not None:
            self._on_change(self.replica)
        try:
            self._store.upsert_replica(self.replica)
        except StoreError as exc:  # the whole row is written again at the next change
            log.error("%s: state %s not stored: %s", self.plan.id, self.replica.state.value, exc)

    def _set_gone(self, state: ReplicaState, **changes: object) -> None:
        """The process is gone: the state it ended in; its pid and health are forgotten."""
        self._set(state=state, pid=None, live=Health.UNKNOWN, ready=Health.UNKNOWN, **changes)


_ALIVE = (ReplicaState.RUNNING, ReplicaState.STOPPING, ReplicaState.PENDING)


def _held_state(previous: Replica, adopt: ProcessInfo | None) -> ReplicaState:
    """What a replica held down by an operator shows after a restart of the controller: its last
    state (``failed`` says why it is held), except that a state saying a process runs or is about
    to is not believed without a process to adopt — the last controller went down mid-stop."""
    if adopt is None and previous.state in _ALIVE:
        return ReplicaState.STOPPED
    return previous.state
