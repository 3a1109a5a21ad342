"""The result of running one probe once: a plain value shared by the probe runners and tracker.

Built by :func:`vigil.collectors.run_probe`; read by :class:`vigil.collectors.ProbeTracker` and
:class:`vigil.collectors.ProbeLoop`, which the supervisor in :mod:`vigil.remediation` drives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """One probe run: ``ok``, how long it took, a one-line ``detail`` and whether it timed out."""

    ok: bool
    latency: float
    """Seconds from the start of the probe to its verdict."""
    detail: str = ""
    """``HTTP 200``, ``HTTP 503``, ``body lacks 'ok'``, ``connection refused``, ``exit 1: ...``."""
    timed_out: bool = False
    """No verdict within the probe's timeout: for a liveness probe, the sign of a hung process."""
