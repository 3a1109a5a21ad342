"""Backends: the only place third-party clients and OS process control live.

Public surface: the :class:`ProcessBackend` protocol and its value types, and :func:`free_port`;
implementations are imported from their modules (``vigil.backends.local``, ``vigil.backends.fake``).
"""

from __future__ import annotations

from vigil.backends._ports import free_port
from vigil.backends._protocol import (
    ProcessBackend,
    ProcessInfo,
    ProcessSpec,
    Signaller,
    send_signals,
)

__all__ = ["ProcessBackend", "ProcessInfo", "ProcessSpec", "Signaller", "free_port", "send_signals"]
