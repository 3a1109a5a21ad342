"""GPU metrics and XID events from NVML (nvidia-ml-py), degrading cleanly without a GPU.

:class:`GpuCollector` is called by the node agent next to :class:`HostCollector`; its samples go
to the controller's metrics pipeline. NVML is injected (``nvml=``) for tests; by default
``pynvml`` is imported lazily, so a node without the library or the driver still runs.

Failure policy: if NVML is missing or will not initialise, that is logged once and every collect
returns just ``gpu.available = 0``. A GPU that fails mid-run (GPU_IS_LOST after Xid 79, or
RESET_REQUIRED, on its handle) is logged once, reported as ``gpu.up{gpu=N} = 0`` and skipped
from then on; the other GPUs keep reporting (so does one NVML cannot open at start). Any other
error fails that one reading, asked again next time (logged once while the GPU's readings
keep failing). A reading the GPU does not support (ECC on consumer boards) is skipped quietly
and not asked again. An XID event wait that fails with GPU_IS_LOST is retried on a new
event set without the lost GPUs (once the readings have found which GPU is lost: until then
it is retried at the next collect); any other failure turns NVML's XID events off.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, cast

from vigil.collectors._sample import Sample
from vigil.collectors._xid import xid_info

log = logging.getLogger(__name__)

# NVML C API constants (stable across driver releases; see nvml.h).
_TEMPERATURE_GPU = 0
_CLOCK_SM, _CLOCK_MEM = 1, 2
_ECC_CORRECTED, _ECC_UNCORRECTED = 0, 1
_ECC_VOLATILE, _ECC_AGGREGATE = 0, 1
_RETIRED_SBE, _RETIRED_DBE = 0, 1  # retirement causes: multiple single-bit, double-bit
_EVENT_XID = 0x8  # nvmlEventTypeXidCriticalError
_ERROR_NOT_SUPPORTED, _ERROR_NO_PERMISSION, _ERROR_TIMEOUT, _ERROR_GPU_IS_LOST = 3, 4, 10, 15
_ERROR_RESET_REQUIRED = 16
_LOST = frozenset({_ERROR_GPU_IS_LOST, _ERROR_RESET_REQUIRED})
"""The errors that mean the GPU is gone until it is reset; any other (UNKNOWN, a TIMEOUT of a
busy board: nvidia-smi's "ERR!") fails that one reading, which is asked again next time."""

MAX_EVENTS_PER_COLLECT = 64
"""XID events drained per collect; an XID storm must not stall the agent's tick."""
EVENT_SPACING = 1e-6
"""Seconds between the stamps of two XID events of one GPU and action in one collect: a series
keeps one sample per time. Far above the resolution of a time near 2e9 (~2.4e-7 s), and 64 of
them are 64 us: never near the next collect."""


class NvmlLike(Protocol):
    """The part of pynvml that :class:`GpuCollector` calls (pynvml ships no type stubs)."""

    @property
    def NVMLError(self) -> type[Exception]: ...

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any: ...
    def nvmlDeviceGetIndex(self, handle: Any) -> int: ...
    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any: ...
    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any: ...
    def nvmlDeviceGetTemperature(self, handle: Any, sensor: int) -> int: ...
    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int: ...
    def nvmlDeviceGetClockInfo(self, handle: Any, clock: int) -> int: ...
    def nvmlDeviceGetTotalEccErrors(self, handle: Any, error: int, counter: int) -> int: ...
    def nvmlDeviceGetRetiredPages(self, handle: Any, cause: int) -> list[int]: ...
    def nvmlEventSetCreate(self) -> Any: ...
    def nvmlDeviceRegisterEvents(self, handle: Any, types: int, event_set: Any) -> None: ...
    def nvmlEventSetWait(self, event_set: Any, timeout_ms: int) -> Any: ...
    def nvmlEventSetFree(self, event_set: Any) -> None: ...


class _GpuLost(Exception):
    """An NVML call on a GPU failed for another reason than "not supported"."""


def _count_pages(nvml: NvmlLike, handle: Any, cause: int) -> int:
    return len(nvml.nvmlDeviceGetRetiredPages(handle, cause))


def _load_pynvml() -> NvmlLike:
    return cast(NvmlLike, importlib.import_module("pynvml"))


class GpuCollector:
    """Reads every GPU of the node through NVML; never raises from :meth:`collect`."""

    def __init__(
        self,
        *,
        nvml: NvmlLike | None = None,
        clock: Callable[[], float] = time.time,
        loader: Callable[[], NvmlLike] = _load_pynvml,
    ) -> None:
        self._nvml = nvml
        self._loader = loader
        self._clock = clock
        self._started = False
        self.unavailable: str | None = None
        """Why NVML is unusable (set once, then every collect is just ``gpu.available = 0``)."""
        self._handles: dict[int, Any] = {}
        self._lost: set[int] = set()
        self._unsupported: set[tuple[int, str]] = set()
        self._flaky: set[int] = set()  # GPUs with a reading failing (said once per streak)
        self._failed = False  # a reading of the GPU being read failed this time
        self._events: Any = None
        self._events_skip: frozenset[int] = frozenset()  # lost GPUs the event set leaves out
        self._wait_lost_said = False  # a wait found a GPU lost before the readings did

    def collect(self) -> list[Sample]:
        """One reading of every GPU plus the XID events since the last call."""
        at = self._clock()
        if not self._started:
            self._start()
        nvml = self._nvml
        if self.unavailable is not None or nvml is None:
            return [Sample.of("gpu.available", 0, at)]
        out = [Sample.of("gpu.available", 1, at), Sample.of("gpu.count", len(self._handles), at)]
        for index, handle in self._handles.items():
            if index not in self._lost:
                try:
                    out.extend(self._read(nvml, index, handle, at))
                except _GpuLost as exc:
                    self._lost.add(index)
                    log.warning(
                        "GPU %d stopped answering NVML (%s); skipping it from now on", index, exc
                    )
            out.append(
                Sample.of("gpu.up", 0 if index in self._lost else 1, at, {"gpu": str(index)})
            )
        out.extend(self._poll_events(nvml, at))
        return out

    def close(self) -> None:
        """Free the event set and shut NVML down (safe to call more than once)."""
        nvml = self._nvml
        if not self._started or nvml is None or self.unavailable is not None:
            return
        self._started = False
        try:
            if self._events is not None:
                nvml.nvmlEventSetFree(self._events)
            nvml.nvmlShutdown()
        except Exception as exc:  # shutting down: log, never raise
            log.debug("NVML shutdown failed: %s", exc)
        self._handles, self._events = {}, None

    def _start(self) -> None:
        self._started = True
        try:
            if self._nvml is None:
                self._nvml = self._loader()
            nvml = self._nvml
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
        except ImportError as exc:
            self._give_up(f"nvidia-ml-py is not installed ({exc})")
            return
        except Exception as exc:  # NVMLError_* (no driver, no GPU...) or worse
            self._give_up(f"NVML did not initialise: {exc or type(exc).__name__}")
            return
        for index in range(count):
            # one GPU that NVML cannot open (fallen off the bus before the agent started:
            # GPU_IS_LOST) is reported down; the others are read as usual
            try:
                self._handles[index] = nvml.nvmlDeviceGetHandleByIndex(index)
            except nvml.NVMLError as exc:
                self._handles[index] = None
                self._lost.add(index)
                log.warning("GPU %d: NVML cannot open it (%s); reporting it down", index, exc)
        self._events = self._register_events(nvml)

    def _give_up(self, reason: str) -> None:
        self.unavailable = reason
        log.warning("GPU metrics unavailable: %s; reporting gpu.available=0", reason)

    def _register_events(self, nvml: NvmlLike) -> Any:
        self._events_skip = frozenset(self._lost)
        try:
            events = nvml.nvmlEventSetCreate()
        except nvml.NVMLError as exc:
            log.info("NVML events unsupported (%s); no XID events from NVML", exc)
            return None
        for index, handle in self._handles.items():
            if index in self._lost:
                continue
            try:
                nvml.nvmlDeviceRegisterEvents(handle, _EVENT_XID, events)
            except nvml.NVMLError as exc:
                log.info("GPU %d: XID events unsupported (%s)", index, exc)
        return events

    def _free_events(self, nvml: NvmlLike) -> None:
        events, self._events = self._events, None
        try:
            nvml.nvmlEventSetFree(events)
        except nvml.NVMLError as exc:
            log.debug("NVML event set not freed: %s", exc)

    def _call(self, nvml: NvmlLike, index: int, what: str, fn: Callable[[], Any]) -> Any:
        if (index, what) in self._unsupported:
            return None
        try:
            return fn()
        except nvml.NVMLError as exc:
            code = getattr(exc, "value", None)
            if code in (_ERROR_NOT_SUPPORTED, _ERROR_NO_PERMISSION):
                self._unsupported.add((index, what))
                return None
            if code in _LOST:
                raise _GpuLost(f"{what}: {exc}") from exc
            # any other error fails this reading only: one "Unknown Error" marked the GPU
            # lost for good before (gpu.up = 0, never read again), a healthy GPU reported down
            self._failed = True
            if index not in self._flaky:
                self._flaky.add(index)
                log.warning("GPU %d: %s failed (%s); skipped this time", index, what, exc)
            return None

    def _read(self, nvml: NvmlLike, index: int, h: Any, at: float) -> list[Sample]:
        labels = {"gpu": str(index)}
        self._failed = False
        values: dict[str, float] = {}

        def get(what: str, fn: Callable[[], Any]) -> Any:
            return self._call(nvml, index, what, fn)

        if (util := get("util", lambda: nvml.nvmlDeviceGetUtilizationRates(h))) is not None:
            values["gpu.util_pct"] = util.gpu
            values["gpu.mem_util_pct"] = util.memory
        if (mem := get("memory", lambda: nvml.nvmlDeviceGetMemoryInfo(h))) is not None:
            values["gpu.mem.used_bytes"] = mem.used
            values["gpu.mem.total_bytes"] = mem.total
        scalars: dict[str, Callable[[], Any]] = {
            "gpu.temperature_c": lambda: nvml.nvmlDeviceGetTemperature(h, _TEMPERATURE_GPU),
            "gpu.power_w": lambda: nvml.nvmlDeviceGetPowerUsage(h) / 1000.0,  # NVML gives mW
            "gpu.clock.sm_mhz": lambda: nvml.nvmlDeviceGetClockInfo(h, _CLOCK_SM),
            "gpu.clock.mem_mhz": lambda: nvml.nvmlDeviceGetClockInfo(h, _CLOCK_MEM),
        }
        for scope, counter in (("volatile", _ECC_VOLATILE), ("aggregate", _ECC_AGGREGATE)):
            for kind, error in (("corrected", _ECC_CORRECTED), ("uncorrected", _ECC_UNCORRECTED)):
                read = partial(nvml.nvmlDeviceGetTotalEccErrors, h, error, counter)
                scalars[f"gpu.ecc.{scope}_{kind}"] = read
        for cause, code in (("sbe", _RETIRED_SBE), ("dbe", _RETIRED_DBE)):
            scalars[f"gpu.retired_pages.{cause}"] = partial(_count_pages, nvml, h, code)
        for name, fn in scalars.items():
            if (value := get(name, fn)) is not None:
                values[name] = value
        if not self._failed:
            self._flaky.discard(index)
        return [Sample.of(name, float(value), at, labels) for name, value in values.items()]

    def _poll_events(self, nvml: NvmlLike, at: float) -> list[Sample]:
        out: list[Sample] = []
        seen: dict[tuple[str, str], int] = {}
        while self._events is not None and len(out) < MAX_EVENTS_PER_COLLECT:
            try:
                data = nvml.nvmlEventSetWait(self._events, 0)
            except nvml.NVMLError as exc:
                code = getattr(exc, "value", None)
                if code == _ERROR_TIMEOUT:  # no more events
                    break
                if code == _ERROR_GPU_IS_LOST and self._lost - self._events_skip:
                    # the set's wait fails for as long as it holds a GPU that fell off the bus:
                    # a new set without it keeps the other GPUs' XIDs coming
                    log.warning(
                        "NVML event wait: %s; XID events again without GPUs %s",
                        exc,
                        sorted(self._lost),
                    )
                    self._free_events(nvml)
                    self._events = self._register_events(nvml)
                    self._wait_lost_said = False
                    continue
                if code == _ERROR_GPU_IS_LOST:
                    # a GPU fell off after this collect's readings: the next readings name it,
                    # then the set is rebuilt without it (above). Turned off here, the other
                    # GPUs' XIDs were never reported again.
                    if not self._wait_lost_said:  # once: it may last (every collect)
                        self._wait_lost_said = True
                        log.info("NVML event wait: %s; retried after the next readings", exc)
                    break
                log.warning("NVML event wait failed (%s); XID events off from now on", exc)
                self._free_events(nvml)
                break
            if data.eventType != _EVENT_XID:
                continue
            try:
                index: int | str = nvml.nvmlDeviceGetIndex(data.device)
            except nvml.NVMLError:  # the GPU behind the event may be gone (Xid 79)
                index = "unknown"
            info = xid_info(int(data.eventData))
            labels = {"gpu": str(index), "action": info.action.value}
            # one series per GPU and action: a second event of it in this collect (Xid 13 then
            # 43, 48 then 63) stamped the same time was refused downstream as not newer than
            # the first, and lost; each is stamped EVENT_SPACING after the one before
            key = (str(index), info.action.value)
            nth = seen.get(key, 0)
            seen[key] = nth + 1
            out.append(Sample.of("gpu.xid", info.code, at + nth * EVENT_SPACING, labels))
            log.warning("GPU %s: Xid %d (%s): %s", index, info.code, info.action, info.description)
        return out
