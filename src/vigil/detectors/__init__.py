"""Pure streaming detectors: they turn timestamped observations into verdicts, with no clock or I/O.

The phi-accrual failure detector judges nodes Up, Suspect or Down from their heartbeats. The
daemon's heartbeat monitor feeds :class:`NodeJudge` and publishes the transitions it returns;
tests drive the detectors with simulated time.

Series detectors share one shape (:class:`Detector`: ``update(t, x) -> Score``): static
thresholds, rolling / EWMA / MAD z-scores, seasonal baselines, CUSUM change points,
:class:`ContextNovelty` (new patterns without extreme values, after CAD OSE),
:class:`EnsembleDetector` (calibrated z-scores and context novelty: the previous default),
and :class:`RecordEnsemble`, the default behind ``vigil detect`` and ``anomaly(...)`` rules
(records of the series at several time scales, built on :class:`RangeRecord`
and :class:`Refractory`). :class:`HealthMarkov` predicts a node's chance of reaching
``failed`` from the history of its health states. :class:`StreamClock` places a stream's row
times on a clock that never goes back and is not moved by one far-ahead typo.
"""

from __future__ import annotations

from vigil.detectors._bucket_lag import BucketLag
from vigil.detectors._calibrate import TailCalibrator
from vigil.detectors._changepoint import Cusum
from vigil.detectors._context import ContextNovelty
from vigil.detectors._ensemble import EnsembleDetector
from vigil.detectors._markov import HealthMarkov, runs_per_step, states_per_step
from vigil.detectors._node_judge import NodeJudge, Transition
from vigil.detectors._phi_accrual import PhiAccrual, detection_time, phi_of
from vigil.detectors._record_ensemble import RecordEnsemble
from vigil.detectors._records import RangeRecord, Refractory
from vigil.detectors._rules import RuleChange, RuleEngine, RuleSpec
from vigil.detectors._score import Detector, Score
from vigil.detectors._seasonal import Lag, SeasonalZScore
from vigil.detectors._stream_clock import (
    FAR_FACTOR,
    GAP_FACTOR,
    START_ROWS,
    Kind,
    Placement,
    StreamClock,
)
from vigil.detectors._threshold import StaticThreshold
from vigil.detectors._window import SortedWindow
from vigil.detectors._zscore import EwmaZScore, MadZScore, RollingZScore

__all__ = [
    "FAR_FACTOR",
    "GAP_FACTOR",
    "START_ROWS",
    "BucketLag",
    "ContextNovelty",
    "Cusum",
    "Detector",
    "EnsembleDetector",
    "EwmaZScore",
    "HealthMarkov",
    "Kind",
    "Lag",
    "MadZScore",
    "NodeJudge",
    "PhiAccrual",
    "Placement",
    "RangeRecord",
    "RecordEnsemble",
    "Refractory",
    "RollingZScore",
    "RuleChange",
    "RuleEngine",
    "RuleSpec",
    "Score",
    "SeasonalZScore",
    "SortedWindow",
    "StaticThreshold",
    "StreamClock",
    "TailCalibrator",
    "Transition",
    "detection_time",
    "phi_of",
    "runs_per_step",
    "states_per_step",
]
