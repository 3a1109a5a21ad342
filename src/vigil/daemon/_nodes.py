"""Heartbeat monitor: feeds agents' heartbeats to the phi-accrual judge and acts on its verdicts.

The API calls :meth:`NodeMonitor.heartbeat` for each ``POST /api/v1/heartbeats``; the daemon runs
:meth:`NodeMonitor.run`, which re-judges every node every ``heartbeat.check_every`` seconds and
turns Suspect/Down into findings (incidents) and Up into recoveries.

A status change takes effect in memory at once (``nodes()`` and the heartbeat's answer show it);
what it writes (the node row, the incident, an escalation) runs while :meth:`run` runs on an
ordered writer thread (:mod:`vigil.daemon._writer`), so a storm of changes never stalls the
heartbeats on the loop. ``NodeStatusChanged`` is published once those writes are committed;
outside :meth:`run` (tests, shutdown) the writes are done in line, as before. A round that wakes
late (the loop stalled) judges as of the time it was due: heartbeats sent during the stall are
still unread behind it (:meth:`check`).

:meth:`NodeMonitor.nodes` (``GET /api/v1/nodes``, placement, the risk loop) returns a snapshot
that is rebuilt when a status changes or once it is :data:`SNAPSHOT_AGE` old: with 1,000 nodes,
a phi and a copy per node cost ~10 ms, and a dashboard polling back to back spent most of the
loop on it.

A node declared without an address (``nodes[].address`` unset; only ``local`` stands for this
host without one) takes the address its heartbeats come from (the API passes the request's peer
address): shown at once as ``address`` with ``address_source: heartbeat``, stored with the node's
row and taken up again after a restart; a later heartbeat from elsewhere (the agent moved, a new
DHCP lease) replaces it. An agent may send the address it wants to be reached at (``vigil agent
--advertise-address``; by default the local address of its route to the controller): that one is
taken over the peer (``address_source: agent``; older agents send none). Behind a NAT or a
proxy between agent and controller, the peer is the proxy's: the agent's own address, or one
set in the config, is the one to use there. An address set in the config is never replaced
(``address_source: config``). The store keeps the address with its source (migration 0006), so
after a restart (or a standby's takeover) both show as they were; a row of an older store, with
no source, shows ``heartbeat`` until the agent's next heartbeat says otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from vigil.bus import EventBus
from vigil.daemon._writer import LoopPublisher, OrderedWriter
from vigil.detectors import NodeJudge, Transition
from vigil.errors import NotFoundError
from vigil.model import (
    Finding,
    FindingKind,
    HeartbeatReceived,
    Node,
    NodeStatus,
    NodeStatusChanged,
    Severity,
)
from vigil.remediation import ActionLog, IncidentBook
from vigil.settings import Settings
from vigil.store import Store

log = logging.getLogger(__name__)

SNAPSHOT_AGE = 0.25
"""Seconds a :meth:`NodeMonitor.nodes` snapshot is served (a quarter of the default heartbeat
interval): its ``last_heartbeat``, ``info`` and ``phi`` may be that much behind; a status
change shows at once (it drops the snapshot)."""

_FINDINGS = {
    NodeStatus.SUSPECT: (FindingKind.NODE_SUSPECT, Severity.WARNING),
    NodeStatus.DOWN: (FindingKind.NODE_DOWN, Severity.CRITICAL),
}
"""What a node's new status means: the finding it raises, and how bad it is."""


class NodeMonitor:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        bus: EventBus,
        incidents: IncidentBook,
        actions: ActionLog,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` (wall time) stamps heartbeats, events and incidents; silences are judged
        on ``monotonic`` (the controller gives :func:`time.monotonic`; None: on ``clock``,
        for tests moving one clock by hand). Judged on the wall clock, a step of it (NTP, a
        VM resumed) forward was a silence of every node (the fleet Down at once), and back
        left each last heartbeat in the future (a node dying then stayed Up that long)."""
        hb = settings.heartbeat
        self.interval = hb.interval
        self._check_every = hb.check_every
        self._judge = NodeJudge(
            interval=hb.interval,
            phi_suspect=hb.phi_suspect,
            phi_down=hb.phi_down,
            window=hb.window,
            min_std=hb.min_std,
            acceptable_pause=hb.interval if hb.acceptable_pause is None else hb.acceptable_pause,
        )
        self._store = store
        self._bus = bus
        self._incidents = incidents
        self._actions = actions
        self._last_seq: dict[str, int] = {}
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._nodes: dict[str, Node] = {
            n.name: Node(
                name=n.name,
                address=n.address or "",
                labels=dict(n.labels),
                address_source="config" if n.address else "",
            )
            for n in settings.nodes
        }
        self._learns = {n.name for n in settings.nodes if n.address is None}
        """Nodes declared without an address: it is learned from their heartbeats' source."""
        self._heard_again: set[str] = set()
        """Nodes Suspect or Down before a restart: their next heartbeat is a recovery."""
        self._expected: set[str] = set()
        """Nodes Up or Suspect before a restart, not heard yet: the first check expects a
        heartbeat from them within an interval."""
        self._resume()
        for node in self._nodes.values():
            self._store.upsert_node(node)
        self._writer: OrderedWriter | None = None
        self._thread_book: tuple[EventBus, IncidentBook, ActionLog] | None = None
        self._snapshot: tuple[Node, ...] | None = None
        self._snapshot_at = 0.0

    def _resume(self) -> None:
        """Take up the nodes an earlier run had heard from (their rows in the store). One that
        was Up or Suspect is expected to beat within an interval of the first :meth:`check`
        (when the API serves again), as if it had just beaten: silent, it turns Suspect then
        Down as it would have without the restart (a node lost while the controller was down
        was otherwise never judged at all). One that was Suspect or Down shows so until it is
        heard again, which resolves its incident."""
        stored = {n.name: n for n in self._store.list_nodes()}
        for name, node in self._nodes.items():
            old = stored.get(name)
            if old is not None and old.address and name in self._learns:  # learned earlier
                # rows of stores before migration 0006 keep no source: their peer's, as shown
                source = old.address_source or "heartbeat"
                node = self._nodes[name] = dataclasses.replace(
                    node, address=old.address, address_source=source
                )
            if old is None or old.status is NodeStatus.UNKNOWN:
                continue  # never heard from: its agent may not be installed yet
            self._nodes[name] = dataclasses.replace(
                node, status=old.status, last_heartbeat=old.last_heartbeat, info=old.info
            )
            if old.status is not NodeStatus.DOWN:
                self._expected.add(name)
            if old.status is not NodeStatus.UP:
                self._heard_again.add(name)

    def status_of(self, name: str) -> NodeStatus | None:
        """One node's status now (None: no such node), without building a snapshot."""
        node = self._nodes.get(name)
        return None if node is None else node.status

    def nodes(self) -> tuple[Node, ...]:
        """Every node with its phi now (or at most :data:`SNAPSHOT_AGE` ago), in config order;
        the same tuple until it is rebuilt (the API keeps its JSON while it is the same)."""
        now = self._judged(self._clock())
        if self._snapshot is None or not 0.0 <= now - self._snapshot_at < SNAPSHOT_AGE:
            phi = self._judge.phi
            # a constructor call: dataclasses.replace (a fields() walk per node) took ~2x as
            # long at 1,000 nodes
            self._snapshot = tuple(
                Node(
                    name=n.name,
                    address=n.address,
                    labels=n.labels,
                    status=n.status,
                    last_heartbeat=n.last_heartbeat,
                    phi=phi(n.name, now),
                    info=n.info,
                    address_source=n.address_source,
                )
                for n in self._nodes.values()
            )
            self._snapshot_at = now
        return self._snapshot

    def heartbeat(
        self,
        name: str,
        seq: int,
        info: Mapping[str, Any],
        *,
        peer: str | None = None,
        address: str | None = None,
    ) -> NodeStatus:
        """Record a heartbeat; returns the node's status afterwards (Up). ``address``: the one
        the agent asks to be reached at, else ``peer``: the address it came from; the node's
        address when it was declared without one."""
        node = self._nodes.get(name)
        if node is None:
            raise NotFoundError("node", name)
        learnt, source = (address, "agent") if address else (peer, "heartbeat")
        changed = learnt != node.address or source != node.address_source
        if learnt and name in self._learns and changed:
            node = self._learned(node, learnt, source)
        now = self._clock()
        if seq < self._last_seq.get(name, -1):  # the agent restarted: a new heartbeat stream
            self._judge.forget(name)
        self._last_seq[name] = seq
        self._expected.discard(name)
        transition = self._judge.observe(name, self._judged(now))
        if name in self._heard_again:  # Suspect or Down before a restart: this heartbeat heals
            self._heard_again.discard(name)
            if transition is None:
                transition = Transition(name, node.status, NodeStatus.UP, 0.0)
        self._nodes[name] = dataclasses.replace(node, last_heartbeat=now, info=dict(info))
        self._bus.publish(HeartbeatReceived(at=now, node=name, seq=seq, info=dict(info)))
        if transition is not None:
            self._apply(transition, now)
        return self._judge.status(name)

    def _learned(self, node: Node, address: str, source: str) -> Node:
        """``node``'s address learned from its heartbeats (``source``: ``agent``, the address
        the agent sent; ``heartbeat``, their peer): shown at once, and stored (so it outlives a
        restart) on the ordered writer, or in line outside :meth:`run`."""
        log.info("node %s: address %s learned from its agent (%s)", node.name, address, source)
        node = dataclasses.replace(node, address=address, address_source=source)
        self._snapshot = None
        row = node
        if self._writer is None:
            self._store.upsert_node(row)
        else:
            self._writer.submit(lambda: self._store.upsert_node(row))
        return node

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        publisher = LoopPublisher(self._bus, loop)
        incidents = IncidentBook(self._store, publisher, self._clock)
        self._thread_book = (
            publisher,
            incidents,
            ActionLog(self._store, publisher, incidents, self._clock),
        )
        self._writer = OrderedWriter("vigil-node-writes")
        due: float | None = None
        try:
            while True:
                self.check(self._clock(), due=due)
                if self._monotonic is not None:
                    due = self._monotonic() + self._check_every
                await self._sleep(self._check_every)
        finally:
            writer, self._writer = self._writer, None  # from here on, writes are in line
            writer.close()

    def check(self, now: float, *, due: float | None = None) -> None:
        """Judge every node at ``now``: a silent one turns Suspect, then Down (run's round).

        ``due``: when :meth:`run` planned this round, on the ``monotonic`` clock it sleeps on. A
        round that wakes later judges as of ``due``: the monitor's own stall (a blocked loop, the
        process descheduled on a loaded host) is no node's silence, since the heartbeats sent
        meanwhile wait unread behind it and are handled only after this round. The next round,
        on time, counts the whole silence: a node that did go silent is downed one stall later.
        """
        judged = self._judged(now)
        if due is not None and judged > due:
            judged = due
        while self._expected:  # the first round after a restart (see _resume)
            self._judge.observe(self._expected.pop(), judged)
        for transition in self._judge.evaluate(judged):
            self._apply(transition, now)

    def _judged(self, now: float) -> float:
        """The time silences are judged at: ``monotonic()``, or ``now`` (wall) without one."""
        return now if self._monotonic is None else self._monotonic()

    async def drain(self) -> None:
        """Wait until every status change so far is written (and its event published)."""
        if self._writer is not None:
            await self._writer.drain()
            await asyncio.sleep(0)  # the events the writes handed to the loop

    def _apply(self, t: Transition, now: float) -> None:
        node = dataclasses.replace(self._nodes[t.node], status=t.new, phi=t.phi)
        self._nodes[t.node] = node
        self._snapshot = None  # a status change shows at once
        if self._writer is None or self._thread_book is None:
            self._record(t, node, now, self._bus, self._incidents, self._actions)
            return
        bus, incidents, actions = self._thread_book
        self._writer.submit(lambda: self._record(t, node, now, bus, incidents, actions))

    def _record(
        self,
        t: Transition,
        node: Node,
        now: float,
        bus: EventBus,
        incidents: IncidentBook,
        actions: ActionLog,
    ) -> None:
        """Write what a status change means; NodeStatusChanged goes out last, once it is stored."""
        self._store.upsert_node(node)
        subject = f"node:{t.node}"
        silent = now - node.last_heartbeat if node.last_heartbeat is not None else None
        evidence = {"phi": round(t.phi, 2), "silent_for": silent, "node": t.node}
        quiet = f"no heartbeat for {silent or 0:.1f}s (phi {t.phi:.1f})"
        found = _FINDINGS.get(t.new)
        if t.new == NodeStatus.UP:
            incidents.recovered(subject, now, "heartbeats resumed")
        elif found is not None:
            kind, severity = found
            incidents.raise_finding(
                Finding(
                    kind=kind,
                    subject=subject,
                    at=now,
                    severity=severity,
                    summary=f"node {t.node} {t.new.value}: {quiet}",
                    evidence=evidence,
                )
            )
            if t.new == NodeStatus.DOWN:
                # No automatic remedy for a lost node yet (rescheduling comes with placement):
                # escalate so a person looks at it, with the evidence kept on the incident.
                actions.escalate(subject, f"node {t.node} down ({quiet}); needs a person")
        bus.publish(
            NodeStatusChanged(
                at=now,
                node=t.node,
                old=t.old,
                new=t.new,
                phi=t.phi,
                last_heartbeat=node.last_heartbeat,
            )
        )
