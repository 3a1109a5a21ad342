"""The demo's fleet and fault timeline, as data: which fault, when, and what should follow.

Read by :mod:`vigil.demo._run`. Kept apart so the timeline can be read at a glance and changed
without touching the machinery.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vigil.settings import Settings

FaultKind = Literal["kill", "hang", "crash_loop", "agent_down", "fix_crash_loop", "agent_up"]


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the fleet is ready
    kind: FaultKind
    target: str  # replica id or node name
    title: str
    expect: Literal["resolved", "escalated", "none"]


TIMELINE = (
    Fault(3.0, "kill", "llm/0", "kill -9 a replica", "resolved"),
    Fault(8.0, "hang", "llm/1", "hang a replica (SIGSTOP)", "resolved"),
    Fault(14.0, "crash_loop", "llm/2", "make a replica crash-loop", "escalated"),
    Fault(22.0, "agent_down", "gpu-b", "stop a node's agent", "escalated"),
    Fault(28.0, "fix_crash_loop", "llm/2", "operator fixes llm/2 and restarts it", "resolved"),
    Fault(32.0, "agent_up", "gpu-b", "node agent comes back", "resolved"),
)
SETTLE = 4.0
"""Seconds to watch after the last fault before the summary."""


def demo_settings(workdir: Path, port: int, operator_token: str, agent_token: str) -> Settings:
    """Three replicas of the fake model server on this machine and two agent nodes."""
    server = [
        sys.executable,
        "-m",
        "vigil.demo.model_server",
        "--port",
        "{port}",
        "--load-time",
        "0.3",
        "--fail-if-exists",
        str(workdir / "poison-{index}"),
    ]
    probe = {"interval": 0.5, "timeout": 0.5, "failure_threshold": 2}
    return Settings.model_validate(
        {
            "data_dir": str(workdir / "data"),
            "api": {
                "host": "127.0.0.1",
                "port": port,
                "tokens": [{"name": "demo-operator", "role": "admin", "token": operator_token}],
            },
            "heartbeat": {"interval": 0.5},
            "agents": [
                {"node": "gpu-a", "token": agent_token},
                {"node": "gpu-b", "token": agent_token},
            ],
            "nodes": [{"name": "local"}, {"name": "gpu-a"}, {"name": "gpu-b"}],
            "services": [
                {
                    "name": "llm",
                    "command": server,
                    "replicas": 3,
                    "stop_grace": 2,
                    "liveness": {"http": {"path": "/healthz"}, **probe},
                    "readiness": {"http": {"path": "/ready"}, **probe, "failure_threshold": 1},
                    "restart": {
                        "backoff_base": 0.5,
                        "crash_loop": {"max_restarts": 3, "window": 30},
                    },
                    "balancer": {"policy": "p2c_ewma", "slow_start": 2},
                }
            ],
        }
    )
