"""Pure streaming detectors: they turn timestamped observations into verdicts, with no clock or I/O.

The phi-accrual failure detector judges nodes Up, Suspect or Down from their heartbeats. The
daemon's heartbeat monitor feeds :class:`NodeJudge` and publishes the transitions it returns;
tests drive the detectors with simulated time.
"""

from __future__ import annotations

from vigil.detectors._node_judge import NodeJudge, Transition
from vigil.detectors._phi_accrual import PhiAccrual, detection_time, phi_of

__all__ = ["NodeJudge", "PhiAccrual", "Transition", "detection_time", "phi_of"]
