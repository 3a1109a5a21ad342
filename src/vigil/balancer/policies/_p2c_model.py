"""What ``p2c_ewma`` learns about one upstream: its delay as a function of its in-flight count,
its latency while idle, when it last answered, and how much of the last minute it spent stalled.

Pure and O(1) per call. :class:`~vigil.balancer.policies._p2c.PeakEwmaP2C` keeps one
:class:`DelayModel` per upstream id, feeds it from the pool's ``started`` / ``finished`` hooks
(:class:`~vigil.balancer.policies._base.Learner`) and reads :meth:`DelayModel.predict` for each
upstream it compares, with :meth:`DelayModel.usual_gap` (read off the same line) for its silence
test and :meth:`DelayModel.stalled_share` for its stall charge.

Why a line in the in-flight count ``k`` and not ``latency x (k + 1)``: a replica that serves
``s`` requests at once answers in about its service time ``S`` until ``k`` reaches ``s``, and
only then does each extra request add ``S / s``. ``latency x (k + 1)`` is right for ``s = 1`` and
counts a queue that is not there for ``s > 1``, which makes a slow idle replica look cheaper than
a fast one with a few requests in flight. Fitting ``delay = a + b k`` (least squares over the
latencies of recent requests, each with the ``k`` it found when sent) learns the slope the replica
actually has, without knowing ``s``. In bench/balance_sim.py this took p2c's p99 from 1.42x the
oracle's to about 1.1x on the issue's scenario (with the stall detection of ``_p2c.py``).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

MEMORY: Final = 256
"""Effective number of recent requests the fit remembers (each older one weighs ``1 - 1 /
MEMORY`` less). 256 (about 10 s of a replica's traffic in the simulation) beat 16, 32 and 64 in
every bench/balance_sim.py scenario: the slope needs many requests to be told from noise (one
log-normal service time varies by 60 %), and a replica that changes speed is caught sooner by the
silence penalty (``_p2c.py``) and by :data:`CLIP` than by forgetting."""

HORIZON: Final = 10.0
"""... and each second without a new latency weighs the older ones ``exp(-1 / HORIZON)`` less,
so that a replica that gets little traffic (because it was slow) still forgets in seconds: the
few requests it does get after it recovers are enough to bring it back."""

RIDGE: Final = 2.0
"""Weight of the prior slope in the fit: with every request sent at the same ``k`` there is no
slope to measure, and the prior stands in. The prior is the slope the pool's other upstreams
show (replicas of one service usually serve as many requests at once), relative to the
intercept; before any shows one, that of a one-slot replica (``delay = a (k + 1)``). Without
sharing it, a replica that had only ever been sent requests while idle kept the one-slot slope,
so it was sent requests only while idle: 5 % of the traffic among five equal replicas."""

SPREAD: Final = 0.7
"""The in-flight counts of an upstream's remembered requests must vary by this much (standard
deviation) for its slope to count as measured (:meth:`DelayModel.relative_slope`)."""

IDLE_MEMORY: Final = 32.0
"""Effective number of recent requests sent to the upstream while it was idle (``k = 0``) in
:attr:`DelayModel.idle`, its service time without queueing. The prediction never goes below
it: a straight line through a replica that serves several requests at once (flat, then rising
once its slots are full) dips under the flat part at small ``k``, which made busy replicas look
cheaper at ``k = 1`` than an idle one at ``k = 0``. It forgets with time as the fit does
(:data:`HORIZON`): a plain EWMA kept a replica that had been 6x slow at 4x its recovered speed
for minutes, since it was sent one request every few seconds and each moved it 1/32 of the way
(with every upstream compared, that replica got 0.1 % of the picks after it recovered)."""

MIN_SLOPE: Final = 0.125
"""... and the floor rises by this share per request in flight, ``idle * (1 + MIN_SLOPE k)``:
between replicas that all have free slots, the one with fewer requests in flight wins, rather
than the one whose noisy estimate is lowest (a hedge against herding on estimation noise)."""

CLIP: Final = 4.0
"""A latency counts at most ``CLIP`` times the current prediction: the requests held by a stall
all answer when it ends, and at full weight they would keep a recovered replica looking slow for
as long as the fit remembers. A replica that really slows down still moves the fit up by a
factor of up to ``CLIP`` per request's weight."""

MATCH: Final = 32
"""How many of the oldest requests out are searched for the one that just ended."""

STALL_GAPS: Final = 3.0
"""An answer that ends a silence (requests out, none answered) longer than this many usual gaps
(:meth:`DelayModel.usual_gap`) counts the silence beyond one usual gap as time stalled ... 6 was
measured too: it stopped the long tail of a steady slow replica's service times from counting
as stalls (4 slots, mixed speeds, 50 % load: p99 / oracle 1.04 against 1.10-1.13 at 3, 1.09-1.10
on main) but lost the 4-slot issue's scenario (slow+stall 1.13-1.14 against 1.05-1.08 at 3,
80 %, 60k requests); stall scenarios at one slot alike."""

STALL_HORIZON: Final = 60.0
"""... and the time stalled is remembered over about this many seconds (an exponential decay):
:meth:`DelayModel.stalled_share` is the share of that time the upstream spent stalled."""

FLOOR: Final = 0.05
"""The predicted delay is at least this share of the mean latency (a fit may slope down)."""


class DelayModel:
    """A weighted least-squares line ``delay = a + b k`` over one upstream's recent requests.

    ``k`` is the upstream's in-flight count when the request was sent (recorded by
    :meth:`started` with the time it was sent; :meth:`finished` takes back the one sent closest
    to ``now - latency``, since answers overtake each other on a replica that serves several at
    once (for a stream the latency is the time to its first byte, so the match is approximate).
    The slope is shrunk towards the prior with weight :data:`RIDGE` and kept ``>= 0``;
    ``done_at`` is the time of the last answer.
    """

    __slots__ = (
        "_iw",
        "_iy",
        "_sk",
        "_skk",
        "_sky",
        "_sw",
        "_sy",
        "a",
        "at",
        "b",
        "done_at",
        "floor",
        "idle",
        "sent",
        "stall_at",
        "stalled",
    )

    def __init__(self) -> None:
        self._sw = self._sk = self._sy = self._skk = self._sky = 0.0
        self.a = 0.0
        self.b = 0.0
        self.floor = 0.0
        self._iw = self._iy = 0.0
        self.idle = 0.0  # mean latency of recent requests sent while idle (0: none yet)
        self.at: float | None = None  # time of the last latency learned
        self.done_at = -math.inf  # time of the last answer
        self.stalled = 0.0  # seconds stalled, decayed to stall_at by STALL_HORIZON
        self.stall_at = 0.0
        self.sent: deque[tuple[float, int]] = deque()  # (sent at, k) of requests out

    def started(self, in_flight: int, now: float = 0.0) -> None:
        """A request was sent at ``now`` while ``in_flight`` others were out."""
        self.sent.append((now, in_flight))

    def finished(
        self,
        now: float,
        latency: float | None,
        failed: bool,
        in_flight: int,
        prior: float = 1.0,
        peers_done: float | None = None,
    ) -> None:
        """The oldest request still counted ended after ``latency`` seconds (None: not
        measured, the client went away). ``in_flight`` stands in for a request this model did
        not see start (sent before the policy was created). ``prior`` is the slope relative to
        the intercept (``b / a``) assumed where this upstream's own requests do not show one:
        the policy passes what its other upstreams show. ``peers_done``: the latest answer
        other workers got from this upstream, when they pool their stall memories
        (:mod:`._p2c_pooled`): a silence then ends at anyone's answer, so each stall is
        recorded once, by the worker whose answer ends it, and the rows can be summed."""
        out = len(self.sent)
        oldest = self.sent[0][0] if out else now
        k = self._match(now - latency if latency is not None else None, in_flight)
        if latency is None:
            return
        latency = max(latency, 0.0)
        if self.at is not None and out:
            done = self.done_at
            if peers_done is not None and peers_done > done:
                done = peers_done
            silent = now - (oldest if oldest > done else done)
            usual = self.usual_gap(out)
            if silent > STALL_GAPS * usual:
                kept = math.exp(-(now - self.stall_at) / STALL_HORIZON)
                self.stalled = self.stalled * kept + silent - usual
                self.stall_at = now
        self.done_at = now
        if self.at is not None:
            predicted = self.predict(k)
            latency = min(latency, CLIP * predicted)
            if failed:  # a replica that fails fast must not look fast
                latency = max(latency, predicted)
        forget = 1.0
        if self.at is not None and now > self.at:
            forget = math.exp(-(now - self.at) / HORIZON)
        if k == 0:
            self._iw = self._iw * forget * (1.0 - 1.0 / IDLE_MEMORY) + 1.0
            self._iy = self._iy * forget * (1.0 - 1.0 / IDLE_MEMORY) + latency
            self.idle = self._iy / self._iw
        keep = (1.0 - 1.0 / MEMORY) * forget
        self._sw = self._sw * keep + 1.0
        self._sk = self._sk * keep + k
        self._sy = self._sy * keep + latency
        self._skk = self._skk * keep + k * k
        self._sky = self._sky * keep + k * latency
        self.at = now
        self._fit(prior)

    def _match(self, sent_at: float | None, in_flight: int) -> int:
        """The ``k`` of the request that ended, removed from :attr:`sent`: the one sent
        closest to ``sent_at`` among the :data:`MATCH` oldest (answers overtake each other when
        a replica serves several at once), else the oldest."""
        sent = self.sent
        if not sent:
            return in_flight
        if sent_at is None or len(sent) == 1:
            return sent.popleft()[1]
        best, best_error = 0, abs(sent[0][0] - sent_at)
        for index in range(1, min(len(sent), MATCH)):
            error = abs(sent[index][0] - sent_at)
            if error < best_error:
                best, best_error = index, error
        entry = sent[best]
        del sent[best]
        return entry[1]

    def predict(self, k: int) -> float:
        """Expected delay (seconds) of a request sent while ``k`` are in flight."""
        delay = self.a + self.b * k
        floor = self.idle * (1.0 + MIN_SLOPE * k)  # 0 until a request was sent while idle
        if floor < self.floor:
            floor = self.floor
        return delay if delay > floor else floor

    def usual_gap(self, k: int) -> float:
        """The usual time between answers with ``k`` requests out, read off the line:
        ``max(b, predict(0) / k)``. A replica serving several at once answers every
        ``predict(0) / k`` while it has free slots and every ``b`` (its time per extra request)
        once they are full; at one slot both are its service time, whatever the queue."""
        return max(self.b, self.predict(0) / max(k, 1))

    def stalled_share(self, now: float) -> float:
        """The share of the last ~:data:`STALL_HORIZON` seconds this upstream spent stalled
        (silent beyond :data:`STALL_GAPS` usual gaps, counted when it answers again)."""
        if not self.stalled:
            return 0.0
        return self.stalled * math.exp(-(now - self.stall_at) / STALL_HORIZON) / STALL_HORIZON

    def relative_slope(self) -> float | None:
        """``b / a`` when the requests remembered were sent at spread-out ``k`` (a standard
        deviation of at least :data:`SPREAD`), else None: a slope this upstream has shown."""
        w = self._sw
        if w < 2.0 or self.a <= 0.0:
            return None
        mean_k = self._sk / w
        if self._skk / w - mean_k * mean_k < SPREAD * SPREAD:
            return None
        return self.b / self.a

    def sums(self) -> tuple[float, float, float, float, float, float, float]:
        """The decayed sums behind the fit, as of :attr:`at`: weights, ``k``, latency, ``k^2``,
        ``k x latency``, then the idle weights and latencies (:mod:`._p2c_pooled` publishes
        them)."""
        return (self._sw, self._sk, self._sy, self._skk, self._sky, self._iw, self._iy)

    def load(
        self,
        at: float,
        sums: tuple[float, float, float, float, float],
        idle: tuple[float, float],
        prior: float,
    ) -> None:
        """Take ``sums`` (weights, ``k``, latency, ``k^2``, ``k x latency``) and the ``idle``
        sums (weights, latencies) as of ``at`` and fit the line to them (:mod:`._p2c_pooled`,
        combining several workers' sums); a model loaded so learns nothing itself."""
        self._sw, self._sk, self._sy, self._skk, self._sky = sums
        self._iw, self._iy = idle
        self.idle = self._iy / self._iw if self._iw > 0.0 else 0.0
        self.at = at
        self._fit(prior)

    def _fit(self, relative: float) -> None:
        w = self._sw
        mean_k, mean_y = self._sk / w, self._sy / w
        var = self._skk - self._sk * mean_k
        cov = self._sky - self._sk * mean_y
        prior = relative * mean_y / (1.0 + relative * mean_k)  # b0 = relative * a
        self.b = max((cov + RIDGE * prior) / (var + RIDGE), 0.0)
        self.a = mean_y - self.b * mean_k
        self.floor = FLOOR * mean_y
