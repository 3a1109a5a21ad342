"""Vigil's REST API: a FastAPI app over the store (history) and the control plane (live state).

:func:`create_app` builds the app; :mod:`vigil.daemon` serves it with uvicorn behind
:func:`with_lean_heartbeats` (agents' heartbeats skip FastAPI) and implements
:class:`ControlPlane`, the API's only way to command the controller. The CLI and node agents talk
to it over HTTP with bearer tokens (see :mod:`vigil.api._auth` for roles and open mode).
"""

from __future__ import annotations

from vigil.api._alerts import close_receiver
from vigil.api._app import create_app
from vigil.api._beat import with_lean_heartbeats
from vigil.api._control import (
    BalancerStatus,
    ControlPlane,
    GuardsView,
    HeartbeatAck,
    NeverLiveView,
    RiskView,
    SlotView,
    WindowView,
)
from vigil.api._logs_service import IngestResult, LogService, TemplateSort

__all__ = [
    "BalancerStatus",
    "ControlPlane",
    "GuardsView",
    "HeartbeatAck",
    "IngestResult",
    "LogService",
    "NeverLiveView",
    "RiskView",
    "SlotView",
    "TemplateSort",
    "WindowView",
    "close_receiver",
    "create_app",
    "with_lean_heartbeats",
]
