"""The pure guard core: may Vigil take an automatic healing action on a replica now?

:func:`decide` answers allow, defer (and until when), suppress (a maintenance window, a replica an
operator took out of its balancer), dry-run (decided and recorded, not done) or refuse (and
escalate: a replica that never became live after ``escalate_after`` restarts), with the guard
that spoke and a reason a person can read. No clock and no I/O: the moment and every count are
passed in, so each guard is tested with plain numbers. Called by
:class:`vigil.remediation._gate.HealingGate`, which keeps the per-service state it reads
(replicas being restarted, recent actions). Operator commands never come here.

Guards, in the order they speak:

1. ``never_live`` refuses and escalates (restarting again would not help, a person must look);
2. ``operator``: a replica in ``maint`` or ``draining`` is left alone;
3. ``window``: inside a maintenance window the action is suppressed until the window ends;
4. ``dry_run``: recorded as what would be done, nothing is done;
5. ``rate_limit``: at most ``rate_actions`` per service within ``rate_window`` seconds;
6. ``blast_radius``: at most ``max_unavailable`` replicas of the service being restarted at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from vigil.remediation._windows import describe_window, open_window
from vigil.settings import EffectiveRemediation

LEFT_ALONE = frozenset({"maint", "draining"})
"""Balancer admin states an operator sets to take a replica out: Vigil does not heal it then."""
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DEFERRED = "deferred"
    SUPPRESSED = "suppressed"
    DRY_RUN = "dry_run"
    REFUSED = "refused"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    guard: str
    """The guard that decided (``""`` when every guard allowed the action)."""
    reason: str
    until: float | None = None
    """When asking again may get another answer (None: when something else changes)."""

    @property
    def allowed(self) -> bool:
        return self.verdict == Verdict.ALLOWED

    @property
    def escalate(self) -> bool:
        return self.verdict == Verdict.REFUSED


@dataclass(frozen=True)
class Ask:
    """One automatic action Vigil wants to take."""

    replica: str
    action: str
    """``restart`` (the only automatic healing action today)."""
    replicas: int
    """How many replicas the service has (a percentage ``max_unavailable`` is of this)."""
    never_live_restarts: int = 0
    """Restarts since the replica was last live, none of which made it live."""
    admin_state: str | None = None
    """The replica's balancer admin state, when it is behind a balancer."""


@dataclass(frozen=True)
class ServiceLoad:
    """What Vigil is doing to the service: the replicas it is restarting (each until when it
    counts as unavailable because of that restart) and when its recent actions were allowed."""

    in_flight: Mapping[str, float]
    recent: Sequence[float]


def unavailable_limit(spec: int | str, replicas: int) -> int:
    """``max_unavailable`` as a count: a percentage of ``replicas`` rounded up, at least 1."""
    if isinstance(spec, int):
        return max(1, spec)
    match = _PERCENT.match(spec)
    if match is None:
        raise ValueError(f"max_unavailable: not a count or a percentage (got {spec!r})")
    # exact arithmetic: 7% of 100 is 7, not 7.000000000000001 rounded up to 8
    return max(1, math.ceil(Fraction(match.group(1)) * replicas / 100))


def decide(ask: Ask, guards: EffectiveRemediation, load: ServiceLoad, now: float) -> Decision:
    """The verdict on ``ask`` at ``now`` under ``guards``, given the service's ``load``."""
    if ask.never_live_restarts >= guards.escalate_after:
        return Decision(
            Verdict.REFUSED,
            "never_live",
            f"never live after {ask.never_live_restarts} restart(s) "
            f"(escalate_after {guards.escalate_after}): restarting again will not help, "
            "needs a person",
        )
    if ask.admin_state in LEFT_ALONE:
        return Decision(
            Verdict.SUPPRESSED,
            "operator",
            f"left alone: an operator set it to {ask.admin_state!r} on the balancer",
        )
    found = open_window(guards.windows, now)
    if found is not None:
        window, end = found
        return Decision(
            Verdict.SUPPRESSED,
            "window",
            f"in {describe_window(window)} until {end:.0f}: {ask.action} suppressed",
            until=end,
        )
    if guards.dry_run:
        return Decision(Verdict.DRY_RUN, "dry_run", f"dry-run: would {ask.action}, did nothing")
    recent = sorted(t for t in load.recent if now - guards.rate_window < t <= now)
    if len(recent) >= guards.rate_actions:
        # the oldest action in the window leaves it first; then one more may go
        until = recent[-guards.rate_actions] + guards.rate_window
        return Decision(
            Verdict.DEFERRED,
            "rate_limit",
            f"rate limit: {len(recent)} automatic action(s) on the service in the last "
            f"{guards.rate_window:g}s (limit {guards.rate_actions})",
            until=until,
        )
    limit = unavailable_limit(guards.max_unavailable, ask.replicas)
    busy = {r: t for r, t in load.in_flight.items() if t > now and r != ask.replica}
    holding = load.in_flight.get(ask.replica, now) > now  # its own restart is still under way
    if not holding and len(busy) >= limit:
        return Decision(
            Verdict.DEFERRED,
            "blast_radius",
            f"blast radius: {len(busy)} of {ask.replicas} replica(s) already being restarted "
            f"({', '.join(sorted(busy))}; max_unavailable {guards.max_unavailable!s} = {limit})",
            until=min(busy.values()),
        )
    return Decision(
        Verdict.ALLOWED,
        "",
        f"allowed ({len(busy) + 1} of max_unavailable {limit} in flight)",
    )
