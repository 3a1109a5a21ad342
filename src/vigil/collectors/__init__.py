"""I/O sources of signals: probes now; host, GPU, Prometheus later.

:func:`run_probe` runs one HTTP, TCP or exec probe against a replica; :class:`ProbeTracker` turns
outcomes into a verdict with thresholds; :class:`ProbeLoop` drives both on a schedule and publishes
``ProbeResult`` and ``HealthChanged`` events. The supervisor in :mod:`vigil.remediation` owns the
probe loops.
"""

from __future__ import annotations

from vigil.collectors._outcome import ProbeOutcome
from vigil.collectors._probe_loop import ProbeLoop
from vigil.collectors._probes import MAX_BODY, run_probe
from vigil.collectors._tracker import ProbeTracker

__all__ = ["MAX_BODY", "ProbeLoop", "ProbeOutcome", "ProbeTracker", "run_probe"]
