"""I/O sources of signals: probes now; host, GPU, Prometheus later.

:func:`run_probe` runs one HTTP, TCP or exec probe against a replica; :class:`ProbeTracker` turns
outcomes into a verdict with thresholds; :class:`ProbeLoop` drives both on a schedule and publishes
``ProbeResult`` and ``HealthChanged`` events. The supervisor in :mod:`vigil.remediation` owns the
probe loops. :class:`FileTailer` follows a log file through rotations and restarts
(:func:`follow` polls it), for the log pipelines.
"""

from __future__ import annotations

from vigil.collectors._gpu import GpuCollector, NvmlLike
from vigil.collectors._host import HostCollector, PsutilLike, host_facts
from vigil.collectors._logedge import (
    MAX_LEVEL_CHARS,
    MAX_TEMPLATE_CHARS,
    EdgeSourceSpec,
    LogEdge,
    write_atomic,
)
from vigil.collectors._outcome import ProbeOutcome
from vigil.collectors._probe_loop import ProbeLoop
from vigil.collectors._probes import MAX_BODY, run_probe
from vigil.collectors._prom import (
    parse_exposition,
    parse_query_result,
    query,
    redacted,
    scrape,
)
from vigil.collectors._refusals import CardinalityError, Resent
from vigil.collectors._rings import LARGEST as LARGEST_SUM
from vigil.collectors._rings import Rollup
from vigil.collectors._sample import Labels, Sample, SampleBatch, freeze_labels
from vigil.collectors._series import (
    SeriesKey,
    SeriesStore,
    key_of,
    width_for,
)
from vigil.collectors._tail import FileTailer, TailStatus, follow
from vigil.collectors._tail_state import TailedLine, TailState
from vigil.collectors._tracker import ProbeTracker
from vigil.collectors._xid import XID_CATALOG, XidAction, XidInfo, XidLine, parse_xid_line, xid_info

# Plain sorted() order, as tests/test_exports.py checks (RUF022 would put constants first).
__all__ = [
    "LARGEST_SUM",
    "MAX_BODY",
    "MAX_LEVEL_CHARS",
    "MAX_TEMPLATE_CHARS",
    "XID_CATALOG",
    "CardinalityError",
    "EdgeSourceSpec",
    "FileTailer",
    "GpuCollector",
    "HostCollector",
    "Labels",
    "LogEdge",
    "NvmlLike",
    "ProbeLoop",
    "ProbeOutcome",
    "ProbeTracker",
    "PsutilLike",
    "Resent",
    "Rollup",
    "Sample",
    "SampleBatch",
    "SeriesKey",
    "SeriesStore",
    "TailState",
    "TailStatus",
    "TailedLine",
    "XidAction",
    "XidInfo",
    "XidLine",
    "follow",
    "freeze_labels",
    "host_facts",
    "key_of",
    "parse_exposition",
    "parse_query_result",
    "parse_xid_line",
    "query",
    "redacted",
    "run_probe",
    "scrape",
    "width_for",
    "write_atomic",
    "xid_info",
]
