"""The balancer: which replica serves each request, and which node runs each task.

- :class:`Pool` holds one service's upstreams (replicas) with their health, admin state, weight,
  in-flight count and latency, ejects outliers, ramps returning replicas, and picks an upstream
  for each request with a policy from :mod:`vigil.balancer.policies`. It is the
  :class:`Router` (and :class:`RetryGate`) that the HTTP data plane
  (:mod:`vigil.balancer.proxy`) calls around each attempt; the controller feeds it
  membership and health, the API admin states and weights, and reads ``snapshot()`` rows
  (``GET /balance_load``).
- :func:`place` chooses a node for a task from the nodes' live capacity, or returns
  :class:`NoFit` with a reason per node (``POST /api/v1/placements`` answers 409 with them).

Everything here except the proxy is pure: the clock and the RNG are passed in. The per-request
modules are compiled with mypyc when a C compiler is there (``setup.py``); ``VIGIL_PURE_PYTHON=1``
runs them from source instead (:mod:`vigil.balancer._pure`).
"""

from __future__ import annotations

from vigil.balancer import _pure

_pure.install_if_asked()  # before any other module of the package is imported

from vigil.balancer._pool_budget import RetryBudget
from vigil.balancer._pool_settings import PoolSettings, UpstreamStatus
from vigil.balancer._upstream import (
    AdminState,
    Outcome,
    RetryGate,
    Router,
    Upstream,
    UpstreamView,
)
from vigil.balancer.placement import NodeCapacity, NoFit, Placement, TaskNeeds, place
from vigil.balancer.policies import Policy, UnknownPolicyError, make_policy, policy_names
from vigil.balancer.pool import Pool

__all__ = [
    "AdminState",
    "NoFit",
    "NodeCapacity",
    "Outcome",
    "Placement",
    "Policy",
    "Pool",
    "PoolSettings",
    "RetryBudget",
    "RetryGate",
    "Router",
    "TaskNeeds",
    "UnknownPolicyError",
    "Upstream",
    "UpstreamStatus",
    "UpstreamView",
    "make_policy",
    "place",
    "policy_names",
]
