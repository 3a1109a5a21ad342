"""Remediation: the replica supervisor, restart and healing guards, incidents and the action log.

Called by :mod:`vigil.daemon` (which builds one runner per replica) and by the API through the
daemon's control plane.
"""

from __future__ import annotations

from vigil.remediation._actions import AUTOPILOT, ActionLog
from vigil.remediation._fenced import FencedBackend
from vigil.remediation._gate import HealingGate
from vigil.remediation._guards import RestartBudget, should_restart
from vigil.remediation._incidents import IncidentBook
from vigil.remediation._ledger import NeverLive, NeverLiveLedger
from vigil.remediation._parts import Command, ProbeDriver, ProbeFactory, describe_exit
from vigil.remediation._plan import ReplicaPlan, plan_replica, render_argv
from vigil.remediation._policy import (
    Ask,
    Decision,
    ServiceLoad,
    Verdict,
    decide,
    unavailable_limit,
)
from vigil.remediation._supervisor import ReplicaRunner
from vigil.remediation._windows import describe_window, open_window, window_end

__all__ = [
    "AUTOPILOT",
    "ActionLog",
    "Ask",
    "Command",
    "Decision",
    "FencedBackend",
    "HealingGate",
    "IncidentBook",
    "NeverLive",
    "NeverLiveLedger",
    "ProbeDriver",
    "ProbeFactory",
    "ReplicaPlan",
    "ReplicaRunner",
    "RestartBudget",
    "ServiceLoad",
    "Verdict",
    "decide",
    "describe_exit",
    "describe_window",
    "open_window",
    "plan_replica",
    "render_argv",
    "should_restart",
    "unavailable_limit",
    "window_end",
]
