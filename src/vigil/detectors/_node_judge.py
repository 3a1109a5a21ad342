"""Node status from heartbeats: one phi-accrual detector per node and the Suspect/Down thresholds.

Pure: no clock and no I/O. The daemon's heartbeat monitor calls :meth:`NodeJudge.observe` for each
``HeartbeatReceived`` and :meth:`NodeJudge.evaluate` every ``heartbeat.check_every`` seconds, and
publishes a ``NodeStatusChanged`` for every transition either returns.

:meth:`NodeJudge.evaluate` skips a node until the time its phi can reach the next threshold:
phi grows with the silence and its mean and spread change only with a heartbeat, so that time
(:meth:`PhiAccrual.silence_until`) holds until the next one. Before, every call (20 a second)
computed every node's phi: ~2 ms of the controller's loop at 1,000 nodes; now it computes the
deadline of the nodes heard from since (a twentieth of them) and compares a float for the rest.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from vigil.detectors._phi_accrual import PhiAccrual, detection_time
from vigil.model import NodeStatus

_RANK = {NodeStatus.UNKNOWN: 0, NodeStatus.UP: 1, NodeStatus.SUSPECT: 2, NodeStatus.DOWN: 3}
MARGIN = 1e-3
"""Seconds a node is judged before its computed deadline: far above the rounding of times near
1.7e9 s (~2e-7 s), so a deadline never skips a crossing that the phi itself would see."""


class Transition(NamedTuple):
    """A node's status changed from ``old`` to ``new``; ``phi`` is the suspicion at that time."""

    node: str
    old: NodeStatus
    new: NodeStatus
    phi: float


class NodeJudge:
    """Judges every node Up, Suspect or Down from the phi of its heartbeat stream.

    ``interval`` is the agents' heartbeat interval: it seeds each new node's history. ``min_std``
    of 0 means a quarter of the interval. Status only worsens with silence (Up, then Suspect at
    ``phi >= phi_suspect``, then Down at ``phi >= phi_down``) and any heartbeat makes a node Up.
    """

    def __init__(
        self,
        *,
        interval: float,
        phi_suspect: float = 5.0,
        phi_down: float = 10.0,
        window: int = 100,
        min_std: float = 0.0,
        acceptable_pause: float = 0.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 (got {interval})")
        if not 0 < phi_suspect <= phi_down:
            raise ValueError(f"need 0 < phi_suspect <= phi_down (got {phi_suspect}, {phi_down})")
        self.interval = interval
        self.phi_suspect = phi_suspect
        self.phi_down = phi_down
        self.window = window
        self.min_std = min_std if min_std > 0 else interval / 4
        self.acceptable_pause = acceptable_pause
        self._detectors: dict[str, PhiAccrual] = {}
        self._status: dict[str, NodeStatus] = {}
        self._due: dict[str, float] = {}
        """Per node, the time before which its phi stays below the threshold that would worsen
        its status (inf: Down, nothing worse); dropped by each heartbeat."""

    def observe(self, node: str, now: float) -> Transition | None:
        """Record a heartbeat from ``node`` at ``now``; the transition to Up if it was not Up.

        A node back from Down starts a fresh history: the outage is not an inter-arrival time of
        the stream, and keeping it would inflate the variance and slow the next detection.
        """
        old = self._status.get(node, NodeStatus.UNKNOWN)
        detector = self._detectors.get(node)
        phi = 0.0 if detector is None else detector.phi(now)
        if detector is None or old is NodeStatus.DOWN:
            detector = PhiAccrual(
                self.window,
                min_std=self.min_std,
                acceptable_pause=self.acceptable_pause,
                first_interval=self.interval,
            )
            self._detectors[node] = detector
        detector.heartbeat(now)
        self._due.pop(node, None)
        self._status[node] = NodeStatus.UP
        return None if old is NodeStatus.UP else Transition(node, old, NodeStatus.UP, phi)

    def evaluate(self, now: float) -> list[Transition]:
        """Worsen the status of every silent node whose phi crossed a threshold; the transitions."""
        changes: list[Transition] = []
        due = self._due
        for node, detector in self._detectors.items():
            if now < due.get(node, -math.inf):
                continue
            old = self._status[node]
            phi = detector.phi(now)
            if phi >= self.phi_down:
                new = NodeStatus.DOWN
            elif phi >= self.phi_suspect:
                new = NodeStatus.SUSPECT
            else:
                new = old
            if _RANK[new] > _RANK[old]:
                self._status[node] = new
                changes.append(Transition(node, old, new, phi))
            due[node] = self._deadline(detector, self._status[node])
        return changes

    def _deadline(self, detector: PhiAccrual, status: NodeStatus) -> float:
        """When ``detector``'s phi can reach the threshold that worsens ``status`` (less
        :data:`MARGIN`); inf when nothing can (Down) or before its first heartbeat."""
        if status is NodeStatus.DOWN or detector.last is None:
            return math.inf
        threshold = self.phi_down if status is NodeStatus.SUSPECT else self.phi_suspect
        return detector.last + detector.silence_until(threshold) - MARGIN

    def forget(self, node: str) -> None:
        """Drop a node (removed from the config): its history and status are gone."""
        self._detectors.pop(node, None)
        self._status.pop(node, None)
        self._due.pop(node, None)

    def status(self, node: str) -> NodeStatus:
        return self._status.get(node, NodeStatus.UNKNOWN)

    def phi(self, node: str, now: float) -> float:
        """The node's current suspicion (0 for a node never heard from)."""
        detector = self._detectors.get(node)
        return 0.0 if detector is None else detector.phi(now)

    def last_heartbeat(self, node: str) -> float | None:
        detector = self._detectors.get(node)
        return None if detector is None else detector.last

    def detector(self, node: str) -> PhiAccrual | None:
        """The node's detector (read-only use: its ``mean``, ``std``, ``silence_until``)."""
        return self._detectors.get(node)

    def nodes(self) -> list[str]:
        """Every node heard from and not forgotten, sorted."""
        return sorted(self._detectors)

    def detection_times(self, std: float | None = None) -> tuple[float, float]:
        """Seconds of silence until Suspect and until Down for a steady stream at ``interval``.

        ``std`` is the observed jitter of the inter-arrival times (default: none, so the
        ``min_std`` floor applies). Useful to explain the thresholds to an operator.
        """
        mean = self.interval + self.acceptable_pause
        eff = max(std or 0.0, self.min_std)
        return (
            detection_time(self.phi_suspect, mean=mean, std=eff),
            detection_time(self.phi_down, mean=mean, std=eff),
        )
