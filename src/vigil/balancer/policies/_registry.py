"""The registry of balancing policies by name, as ``vigil.yaml`` and the API spell them.

Called by the pool (:class:`vigil.balancer.pool.Pool`) when it is created or its policy is
changed, and by settings validation to reject unknown names early.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from vigil.balancer.policies._base import Policy, UnknownPolicyError
from vigil.balancer.policies._hash import LOAD_FACTOR, BoundedLoadHash
from vigil.balancer.policies._least import LeastConnections, LeastTime
from vigil.balancer.policies._p2c import DECAY, PeakEwmaP2C
from vigil.balancer.policies._rotation import RoundRobin, SmoothWeighted

POLICIES: Mapping[str, Callable[[], Policy]] = MappingProxyType(
    {
        "hash": BoundedLoadHash,
        "least_conn": LeastConnections,
        "least_time": LeastTime,
        "p2c_ewma": PeakEwmaP2C,
        "round_robin": RoundRobin,
        "weighted": SmoothWeighted,
    }
)
"""Policy factories by name. Each call returns a new policy with its own state."""


def make_policy(name: str, *, decay: float = DECAY, load_factor: float = LOAD_FACTOR) -> Policy:
    """A new policy named ``name``; :class:`UnknownPolicyError` for a name not in
    :data:`POLICIES`. ``decay`` is the peak-EWMA time constant of ``p2c_ewma`` (keep it equal to
    the pool's), ``load_factor`` the ``c`` of ``hash``; other policies take no options."""
    if name == "p2c_ewma":
        return PeakEwmaP2C(decay)
    if name == "hash":
        return BoundedLoadHash(load_factor)
    try:
        factory = POLICIES[name]
    except KeyError:
        raise UnknownPolicyError("balancing", name, policy_names()) from None
    return factory()


def policy_names() -> tuple[str, ...]:
    """The names :func:`make_policy` accepts, sorted."""
    return tuple(sorted(POLICIES))
