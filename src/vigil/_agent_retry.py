"""How the node agent resends host samples after a controller did not answer: backoff with
jitter, and a batch that shrinks while the controller is slow.

Called by :meth:`vigil.agent.Agent.beat`. Pure: the time is passed in, the randomness is the
agent's seeded ``random.Random``.

Without it (before ``teardown31``), a heartbeat that timed out (:data:`vigil.agent.
REQUEST_TIMEOUT_SHARE` of the interval) put its samples back and the very next beat sent them
again with the new ones, up to 5,000 a request: a slow controller, which had often stored the
timed-out batch already, got bigger and bigger requests (each refused sample costs an error
string) from every agent at once, every beat. Well-built shippers bound that loop the same way:
Prometheus remote-write (``min_backoff`` 30 ms doubling to ``max_backoff`` 5 s per shard, and a
bounded queue), the OpenTelemetry collector's exporter helper (``retry_on_failure``: initial
interval, randomization factor, multiplier, max interval; ``sending_queue`` bounded) and Vector
(exponential backoff with full jitter, bounded buffers that block or drop the newest). Here:

* after a failure, samples wait ``interval * 2**(failures-1)`` (at most :data:`MAX_WAIT`), half
  of it fixed and half random ("equal jitter"), so the agents of a fleet that failed together do
  not come back together;
* meanwhile heartbeats still go out at their rate, without samples: liveness is never held back
  by a backlog (the controller's phi detector needs the beats, not the samples);
* each failure halves the batch (at least :data:`MIN_BATCH`), each success doubles it back to
  the full batch: a controller that just recovered gets the backlog in small steps.

The backlog itself stays bounded where it lives (the agent's ``max_buffered`` deque, the oldest
dropped first and counted).
"""

from __future__ import annotations

import random

MAX_WAIT = 30.0
"""Longest wait, seconds, before samples are sent again after failures in a row (Prometheus
remote-write stops at 5 s, the OpenTelemetry exporter at 30 s): beats go on meanwhile."""
MIN_BATCH = 100
"""The smallest batch after failures in a row: two 50-series collections, so a slow controller
still drains a node's backlog faster than it grows."""


class SampleRetry:
    """When samples may ride on a heartbeat again, and how many (see the module's docstring)."""

    def __init__(self, max_batch: int, rng: random.Random, max_wait: float = MAX_WAIT) -> None:
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.limit = max_batch
        """Samples the next heartbeat may carry once the wait is over."""
        self.failures = 0
        """Failed heartbeats in a row."""
        self.not_before = -float("inf")
        self._rng = rng

    def batch(self, now: float) -> int:
        """How many samples the heartbeat sent at ``now`` may carry: none while waiting."""
        return 0 if now < self.not_before else self.limit

    def failed(self, now: float, interval: float) -> float:
        """A heartbeat sent at ``now`` got no answer (or one saying it was not looked at):
        samples wait, and the batch halves. Returns the wait, seconds."""
        self.failures += 1
        self.limit = max(min(MIN_BATCH, self.max_batch), self.limit // 2)
        ceiling = min(self.max_wait, interval * 2.0 ** min(self.failures - 1, 32))
        wait = ceiling / 2 + self._rng.uniform(0.0, ceiling / 2)
        self.not_before = now + wait
        return wait

    def succeeded(self) -> None:
        """A heartbeat was answered: no wait, and the batch doubles back up to the full one."""
        self.failures = 0
        self.not_before = -float("inf")
        self.limit = min(self.max_batch, self.limit * 2)
