"""Balancing policies: pure functions of the upstreams' numbers, the time and an RNG.

Each policy has one ``select(upstreams, *, now, rng, key=None) -> int | None`` and one
``shares(upstreams, *, now) -> list[float]`` (for the API's ranking). The pool
(:class:`vigil.balancer.pool.Pool`) creates one by name with :func:`make_policy`
(:func:`policy_names` lists them) and calls it for each new request; tests and
``bench/balance_sim.py`` drive them with plain numbers.

=============  ==========================================================================
name           chooses
=============  ==========================================================================
round_robin    ``k mod n``
weighted       smooth weighted round robin (nginx): share ``W_i / sum(W)``
least_conn     ``argmin in_flight_i / W_i``
least_time     ``argmin ewma_i * (in_flight_i + 1) / W_i``
p2c_ewma       the cheapest of d = 3 random upstreams and the least loaded one, by a learned
               delay at their in_flight
hash           consistent hashing with bounded loads on the affinity key
=============  ==========================================================================
"""

from __future__ import annotations

from vigil.balancer.policies._base import Learner, Policy, UnknownPolicyError
from vigil.balancer.policies._hash import BoundedLoadHash
from vigil.balancer.policies._least import LeastConnections, LeastTime
from vigil.balancer.policies._p2c import PeakEwmaP2C
from vigil.balancer.policies._registry import make_policy, policy_names
from vigil.balancer.policies._rotation import RoundRobin, SmoothWeighted

__all__ = [
    "BoundedLoadHash",
    "Learner",
    "LeastConnections",
    "LeastTime",
    "PeakEwmaP2C",
    "Policy",
    "RoundRobin",
    "SmoothWeighted",
    "UnknownPolicyError",
    "make_policy",
    "policy_names",
]
