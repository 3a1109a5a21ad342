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
import logging
import shlex
from typing import Any

from vigil.backends import ProcessInfo
from vigil.bus import Subscription
from vigil.errors import BackendError, StoreError
from vigil.model import (
    ActionRecord,
    Event,
    FindingKind,
    Health,
    HealthChanged,
    ProbeKind,
    ReplicaExited,
    ReplicaStarted,
    ReplicaState,
    Severity,
)
from vigil.remediation._gate import audit_detail
from vigil.remediation._guards import should_restart
from vigil.remediation._parts import (
    STORE_RETRY,
    Command,
    describe_exit,
)
from vigil.remediation._policy import Decision
from vigil.remediation._runner_base import RunnerBase, liveness_what

log = logging.getLogger(__name__)

RECHECK = 5.0
"""Seconds between two questions to the guards while they hold a restart back with no time to
wait for (a replica in maint, dry-run): an operator's change is seen within that."""


class ReplicaRunner(RunnerBase):
    """Supervises one replica until :meth:`close`."""

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
            # the incident alone is silent on the terminal: a first `vigil up` with a wrong
            # binary or cwd showed nothing wrong
            log.error(
                "%s; command: %s; check the command and cwd of %s in the config",
                summary,
                shlex.join(self.plan.spec.argv),
                self.plan.config_path,
            )
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
        self._held_back = None
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
                # a restart the guards hold back: asked again when a slot frees or after a
                # while (on the injected sleep)
                wake = asyncio.ensure_future(self._recheck()) if self._holding() else None
                waiting[1:] = [next_event, next_cmd] + ([wake] if wake else [])
                done, _ = await asyncio.wait(
                    set(waiting),
                    timeout=None if wake else self._start_deadline(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                # Priority: a command, then the exit, then a health verdict. A pending get() is
                # cancelled without losing its item (asyncio.Queue guarantees that).
                outcome = self._pick(done, exited, next_event, next_cmd) if done else None
                held = self._holding()  # _pick may have cleared it (live again)
                if outcome is None and held is not None:
                    if wake in done:  # time to ask the guards again
                        outcome = ("unhealthy", held[0])
                elif outcome is None and not done:  # still not live after start_timeout
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
                for fut in waiting[1:]:
                    if not fut.done():
                        fut.cancel()
                if outcome is not None and outcome[0] == "unhealthy":
                    assert isinstance(outcome[1], HealthChanged)
                    outcome = self._guard_liveness(info, outcome[1])
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
            self._held_back = None  # its process is gone: the exit is judged on its own
            await self._after_exit(info, value if isinstance(value, int) else None)
        elif kind in ("unhealthy", "refused"):
            assert isinstance(value, HealthChanged)
            await self._after_liveness_failure(info, value, refused=kind == "refused")
            exited.cancel()
        else:
            await self._handle_command(value, info)  # type: ignore[arg-type]
            exited.cancel()

    def _guard_liveness(self, info: ProcessInfo, event: HealthChanged) -> tuple[str, object] | None:
        """Ask the guards before a replica that is not live is killed and restarted: allowed,
        it goes ahead; refused (never live), it is stopped and escalated; held back, the process
        is left as it is and the question asked again later (see :meth:`_recheck`)."""
        what = liveness_what(event)
        decision = self._permits.ask(self._hold_for())
        if decision.allowed:
            self._allowed = decision
            return ("unhealthy", event)
        if decision.escalate:
            self._allowed = decision
            return ("refused", event)
        if self._held_back is None:  # the finding once; the incident shows it is not healed
            self._liveness_finding(info, event)
        self._held_back = (event, decision)
        self._permits.note(decision, what)
        return None

    def _holding(self) -> tuple[HealthChanged, Decision] | None:
        return self._held_back

    def _recheck_delay(self, decision: Decision) -> float:
        """Seconds until the guards may answer otherwise: their ``until`` (a window's end, a
        rate slot, a blast-radius slot's expiry), or :data:`RECHECK` when only a person's
        change (a replica readied, a config) can change the answer."""
        if decision.until is None:
            return RECHECK
        return max(0.0, decision.until - self._clock())

    async def _recheck(self) -> None:
        """Done when the guards holding a restart back may answer otherwise: a slot of the
        service was freed, or the time their answer named came."""
        assert self._held_back is not None
        changed = self._permits.changed()
        nap = asyncio.ensure_future(self._sleep(self._recheck_delay(self._held_back[1])))
        try:
            await asyncio.wait({changed, nap}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            nap.cancel()

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
            if event.healthy:  # live again: a restart held back is not needed any more
                self._held_back = None
                self._permits.live()
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

    async def _after_liveness_failure(
        self, info: ProcessInfo, event: HealthChanged, *, refused: bool
    ) -> None:
        """Kill a replica that is not live, then restart it (the guards allowed it: the
        decision is in ``self._allowed``) or escalate it (they refused)."""
        if self._held_back is None:  # else its finding was raised when it was held back
            self._liveness_finding(info, event)
        self._held_back = None
        self._info = None
        await self._stop(info)
        now = self._clock()
        self._bus.publish(
            ReplicaExited(
                at=now, replica=self.plan.id, pid=info.pid, returncode=None, expected=True
            )
        )
        self._set(state=ReplicaState.EXITED, pid=None, live=Health.UNHEALTHY, ready=Health.UNKNOWN)
        decision, self._allowed = self._allowed, None
        if refused and decision is not None:
            self._escalate_never_live(decision, liveness_what(event))
            return
        await self._maybe_restart(now, liveness_what(event), None, allowed=decision)

    def _liveness_finding(self, info: ProcessInfo, event: HealthChanged) -> None:
        kind = FindingKind.HUNG if event.timed_out else FindingKind.LIVENESS_FAILING
        self._incidents.raise_finding(
            self._finding(
                kind,
                f"{self.plan.id} {liveness_what(event)}: {event.detail}",
                Severity.CRITICAL,
                detail=event.detail,
                pid=info.pid,
            )
        )

    def _escalate_never_live(self, decision: Decision, what: str) -> None:
        """The guards refused: the replica never became live after ``escalate_after`` restarts.
        A critical finding escalates its incident and restarts stop until an operator acts."""
        self._set(state=ReplicaState.FAILED)
        self._permits.escalated()
        summary = f"{self.plan.id} {decision.reason}; last {what}"
        self._incidents.raise_finding(
            self._finding(
                FindingKind.NEVER_LIVE,
                summary,
                Severity.CRITICAL,
                restarts=self._permits.unhelpful,
                escalate_after=self._permits.guards.escalate_after,
            )
        )
        self._give_up(summary, decision)

    async def _maybe_restart(
        self, now: float, what: str, returncode: int | None, *, allowed: Decision | None = None
    ) -> None:
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
        allowed = allowed or await self._permitted(what)
        if allowed is None:  # refused and escalated, or an operator took over meanwhile
            return
        delay = self._budget.next_delay()
        action = self._actions.begin(
            "restart",
            self.subject,
            reason=f"{what}; restart after {delay:g}s backoff",
            audit=audit_detail(allowed),
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
        self._permits.restarted()
        self._set(state=ReplicaState.PENDING, restarts=self.replica.restarts + 1)
        await self._launch(action)

    async def _permitted(self, what: str) -> Decision | None:
        """Ask the guards until they allow the restart of this (exited) replica; each change
        of their answer is recorded. None: they refused (the replica is escalated), or an
        operator command came meanwhile (and was carried out)."""
        while True:
            decision = self._permits.ask(self._hold_for())
            if decision.allowed:
                return decision
            if decision.escalate:
                self._escalate_never_live(decision, what)
                return None
            self._permits.note(decision, what)
            wake = self._permits.changed()
            if await self._interrupted_by_command(self._recheck_delay(decision), wake):
                return None

    async def _interrupted_by_command(
        self, delay: float, wake: asyncio.Future[None] | None = None
    ) -> bool:
        """Wait out a backoff (on the injected sleep); an operator command cuts it short, and
        so does ``wake`` (then False, as at the end of the delay)."""
        nap = asyncio.ensure_future(self._sleep(delay))
        cmd = asyncio.ensure_future(self._commands.get())
        others = {nap, cmd} | ({wake} if wake is not None else set())
        try:
            await asyncio.wait(others, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # no waiter left behind to take a later command
            nap.cancel()
            if wake is not None:
                wake.cancel()
            if not cmd.cancel() and not cmd.cancelled():  # taken already: close() ends it
                self._commands.put_nowait(cmd.result())
            raise
        if wake is not None and not wake.done():
            wake.cancel()
        if not cmd.done():
            cmd.cancel()
            nap.cancel()
            return False
        nap.cancel()
        await self._handle_command(cmd.result())
        return True

    async def _handle_command(
        self, item: tuple[Command, ActionRecord], info: ProcessInfo | None = None
    ) -> None:
        cmd, action = item
        info = info or self._info
        self._permits.operator_acted()  # an operator's command is never held back by the guards
        self._held_back = self._allowed = None
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
