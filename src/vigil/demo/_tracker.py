"""Follows the bus during the demo: for each injected fault, when it was detected, acted on and
healed or escalated (a fault the run ended before injecting is "not run", not failed); and a
small load generator that plays a client of the model service.

Used by :mod:`vigil.demo._run`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
from rich.table import Table

from vigil.bus import Subscription
from vigil.daemon import Controller
from vigil.demo._scenario import Fault
from vigil.model import ActionChanged, FindingRaised, IncidentChanged, IncidentState
from vigil.render import badge

LOAD_INTERVAL = 0.02
"""Seconds between requests of the demo's load generator (~50 req/s: visible, not heavy)."""


@dataclass
class _Row:
    fault: Fault
    injected_at: float
    detected_at: float | None = None
    acted_at: float | None = None
    outcome_at: float | None = None
    outcome: str = "waiting"

    @property
    def subject(self) -> str:
        kind = "node" if self.fault.kind.startswith("agent") else "replica"
        return f"{kind}:{self.fault.target}"


@dataclass
class FaultTracker:
    rows: list[_Row] = field(default_factory=list)
    not_run: list[Fault] = field(default_factory=list)
    """Faults of the timeline the run ended (``--duration``, Ctrl-C) before injecting."""

    def injected(self, fault: Fault, at: float) -> None:
        self.rows.append(_Row(fault, at))

    def skipped(self, faults: list[Fault]) -> None:
        self.not_run.extend(faults)

    def waiting(self) -> bool:
        """Whether an injected fault has not reached its outcome yet."""
        return any(r.outcome == "waiting" and r.fault.expect != "none" for r in self.rows)

    async def follow(self, sub: Subscription) -> None:
        async for event in sub:
            for row in self.rows:
                if event.subject != row.subject or event.at < row.injected_at:
                    continue
                if isinstance(event, FindingRaised) and row.detected_at is None:
                    row.detected_at = event.at
                elif isinstance(event, ActionChanged) and row.acted_at is None:
                    row.acted_at = event.at
                elif isinstance(event, IncidentChanged) and row.outcome_at is None:
                    state = event.incident.state
                    if state in (IncidentState.RESOLVED, IncidentState.ESCALATED):
                        row.outcome = state.value
                        if state.value == row.fault.expect:
                            row.outcome_at = event.at

    def all_as_expected(self) -> bool:
        """Whether every injected fault ended as expected (those not run do not count)."""
        return all(r.outcome == r.fault.expect or r.fault.expect == "none" for r in self.rows)

    def verdict(self) -> str:
        """One line: how the injected faults ended, and how many were not run."""
        skipped = (
            f" ({len(self.not_run)} of the timeline not run: the demo ended before their time)"
            if self.not_run
            else ""
        )
        if not self.rows:
            return f"[yellow]no fault was injected[/yellow]{skipped}"
        if self.all_as_expected():
            return f"[green]every injected fault ended as expected[/green]{skipped}"
        return f"[red]some injected faults did not end as expected[/red]{skipped}"

    def table(self, now: float, title: str = "Faults") -> Table:
        table = Table(title=title, title_justify="left")
        for col in ("fault", "target", "detected", "acted", "outcome", "after", "expected"):
            table.add_column(col)
        for r in self.rows:

            def rel(at: float | None, row: _Row = r) -> str:
                return "-" if at is None else f"{at - row.injected_at:.2f}s"

            table.add_row(
                r.fault.title,
                r.fault.target,
                rel(r.detected_at),
                rel(r.acted_at),
                badge(r.outcome),
                rel(r.outcome_at),
                r.fault.expect,
            )
        for fault in self.not_run:
            table.add_row(fault.title, fault.target, "-", "-", badge("not run"), "-", fault.expect)
        return table


@dataclass
class LoadStats:
    ok: int = 0
    failed: int = 0

    def line(self) -> str:
        total = self.ok + self.failed
        rate = 100.0 * self.ok / total if total else 100.0
        return f"{self.ok} ok, {self.failed} failed ({rate:.1f}% success)"

    async def run(self, controller: Controller, stop: asyncio.Event) -> None:
        """Send completions through the service's balancer, as a client of the fleet would."""
        port = controller.balancers.ports["llm"]
        in_flight: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(timeout=2.0) as client:
            while not stop.is_set():
                task = asyncio.create_task(self._one(client, port))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                await asyncio.sleep(LOAD_INTERVAL)
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _one(self, client: httpx.AsyncClient, port: int) -> None:
        try:
            resp = await client.post(
                f"http://127.0.0.1:{port}/v1/completions", json={"prompt": "hello vigil"}
            )
            ok = resp.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            self.ok += 1
        else:
            self.failed += 1
