"""The daemon: wiring of settings into running loops. Called by the CLI (``vigil up``,
``vigil demo``), benchmarks and integration tests."""

from __future__ import annotations

from vigil.daemon._controller import Controller
from vigil.daemon._logs import LogPipeline
from vigil.daemon._nodes import NodeMonitor
from vigil.daemon._standalone import StandaloneBalancers

__all__ = ["Controller", "LogPipeline", "NodeMonitor", "StandaloneBalancers"]
