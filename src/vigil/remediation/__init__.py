"""Remediation: the replica supervisor, restart guards, incidents and the action log.

Called by :mod:`vigil.daemon` (which builds one runner per replica) and by the API through the
daemon's control plane.
"""

from __future__ import annotations

from vigil.remediation._actions import AUTOPILOT, ActionLog
from vigil.remediation._guards import RestartBudget, should_restart
from vigil.remediation._incidents import IncidentBook
from vigil.remediation._plan import ReplicaPlan, plan_replica, render_argv
from vigil.remediation._supervisor import (
    Command,
    ProbeDriver,
    ProbeFactory,
    ReplicaRunner,
    describe_exit,
)

__all__ = [
    "AUTOPILOT",
    "ActionLog",
    "Command",
    "IncidentBook",
    "ProbeDriver",
    "ProbeFactory",
    "ReplicaPlan",
    "ReplicaRunner",
    "RestartBudget",
    "describe_exit",
    "plan_replica",
    "render_argv",
    "should_restart",
]
