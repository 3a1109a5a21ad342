"""GpuCollector: NVML readings, XID events, and the failure policy, against a fake NVML module."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from vigil.collectors import GpuCollector, Sample, SeriesStore

NOT_SUPPORTED, TIMEOUT, GPU_IS_LOST, LIBRARY_NOT_FOUND = 3, 10, 15, 12


class FakeNVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


class FakeNvml:
    """Two GPUs; GPU 1 has no ECC; tests lose GPUs and queue XID events."""

    NVMLError = FakeNVMLError

    def __init__(self, count: int = 2, init_error: int | None = None) -> None:
        self.count = count
        self.init_error = init_error
        self.lost: set[int] = set()
        self.events: list[SimpleNamespace] = []
        self.calls: list[str] = []
        self.shut = False

    def _check(self, handle: int, what: str) -> None:
        self.calls.append(f"{what}:{handle}")
        if handle in self.lost:
            raise FakeNVMLError(GPU_IS_LOST)

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise FakeNVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetIndex(self, handle: int) -> int:
        return handle

    def nvmlDeviceGetUtilizationRates(self, h: int) -> SimpleNamespace:
        self._check(h, "util")
        return SimpleNamespace(gpu=90 + h, memory=40)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> SimpleNamespace:
        self._check(h, "mem")
        return SimpleNamespace(used=30 * 2**30, total=80 * 2**30, free=50 * 2**30)

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:
        self._check(h, "temp")
        return 65

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        self._check(h, "power")
        return 350_500

    def nvmlDeviceGetClockInfo(self, h: int, clock: int) -> int:
        self._check(h, "clock")
        return {1: 1980, 2: 2619}[clock]

    def nvmlDeviceGetTotalEccErrors(self, h: int, error: int, counter: int) -> int:
        self._check(h, "ecc")
        if h == 1:
            raise FakeNVMLError(NOT_SUPPORTED)
        return {(0, 0): 7, (1, 0): 0, (0, 1): 120, (1, 1): 2}[(error, counter)]

    def nvmlDeviceGetRetiredPages(self, h: int, cause: int) -> list[int]:
        self._check(h, "pages")
        return [0x1000, 0x2000] if cause == 0 else []

    def nvmlEventSetCreate(self) -> str:
        return "event-set"

    def nvmlDeviceRegisterEvents(self, h: int, types: int, event_set: str) -> None:
        assert types == 0x8

    def nvmlEventSetWait(self, event_set: str, timeout_ms: int) -> SimpleNamespace:
        assert timeout_ms == 0
        if not self.events:
            raise FakeNVMLError(TIMEOUT)
        return self.events.pop(0)

    def nvmlEventSetFree(self, event_set: str) -> None:
        pass


def by_key(samples: list[Sample]) -> dict[str, float]:
    out = {}
    for s in samples:
        labels = ",".join(f"{k}={v}" for k, v in s.labels)
        out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def test_each_gpu_reports_utilisation_memory_temperature_power_clocks_ecc_and_pages() -> None:
    got = by_key(GpuCollector(nvml=FakeNvml(), clock=lambda: 5.0).collect())
    assert got["gpu.available"] == 1
    assert got["gpu.count"] == 2
    assert got["gpu.util_pct{gpu=0}"] == 90
    assert got["gpu.util_pct{gpu=1}"] == 91
    assert got["gpu.mem_util_pct{gpu=0}"] == 40
    assert got["gpu.mem.used_bytes{gpu=0}"] == 30 * 2**30
    assert got["gpu.mem.total_bytes{gpu=0}"] == 80 * 2**30
    assert got["gpu.temperature_c{gpu=0}"] == 65
    assert got["gpu.power_w{gpu=0}"] == 350.5
    assert got["gpu.clock.sm_mhz{gpu=0}"] == 1980
    assert got["gpu.clock.mem_mhz{gpu=0}"] == 2619
    assert got["gpu.ecc.volatile_corrected{gpu=0}"] == 7
    assert got["gpu.ecc.volatile_uncorrected{gpu=0}"] == 0
    assert got["gpu.ecc.aggregate_corrected{gpu=0}"] == 120
    assert got["gpu.ecc.aggregate_uncorrected{gpu=0}"] == 2
    assert got["gpu.retired_pages.sbe{gpu=0}"] == 2
    assert got["gpu.retired_pages.dbe{gpu=0}"] == 0
    assert got["gpu.up{gpu=0}"] == got["gpu.up{gpu=1}"] == 1


def test_a_reading_the_gpu_does_not_support_is_skipped_and_not_asked_again() -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml)
    got = by_key(collector.collect())
    assert not [k for k in got if k.startswith("gpu.ecc") and "gpu=1" in k]
    assert got["gpu.up{gpu=1}"] == 1
    asked = nvml.calls.count("ecc:1")
    collector.collect()
    assert nvml.calls.count("ecc:1") == asked


def test_without_the_library_it_warns_once_and_reports_gpu_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def missing() -> FakeNvml:
        raise ModuleNotFoundError("No module named 'pynvml'")

    collector = GpuCollector(loader=missing, clock=lambda: 9.0)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert collector.collect() == [Sample.of("gpu.available", 0, 9.0)]
    assert len(caplog.records) == 1
    assert "nvidia-ml-py is not installed" in caplog.records[0].getMessage()
    assert collector.unavailable is not None
    collector.close()


def test_when_nvml_does_not_initialise_it_warns_once_and_never_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nvml = FakeNvml(init_error=LIBRARY_NOT_FOUND)
    collector = GpuCollector(nvml=nvml)
    with caplog.at_level(logging.WARNING):
        results = [collector.collect() for _ in range(3)]
    assert all(by_key(r) == {"gpu.available": 0} for r in results)
    assert len(caplog.records) == 1
    assert "NVML did not initialise: NVML error 12" in caplog.records[0].getMessage()
    assert nvml.calls == []


def test_the_real_pynvml_without_a_driver_reports_gpu_unavailable() -> None:
    pytest.importorskip("pynvml")
    collector = GpuCollector()
    got = by_key(collector.collect())
    if got["gpu.available"] == 1:  # a machine with a GPU: the readings came, nothing to check
        collector.close()
        return
    assert got == {"gpu.available": 0}
    assert "NVML" in (collector.unavailable or "")


def test_a_gpu_that_vanishes_is_reported_once_and_the_others_keep_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml)
    collector.collect()
    nvml.lost.add(0)
    with caplog.at_level(logging.WARNING):
        first = by_key(collector.collect())
        second = by_key(collector.collect())
    for got in (first, second):
        assert got["gpu.up{gpu=0}"] == 0
        assert not [k for k in got if "gpu=0" in k and not k.startswith("gpu.up")]
        assert got["gpu.up{gpu=1}"] == 1
        assert got["gpu.util_pct{gpu=1}"] == 91
    assert [r.getMessage() for r in caplog.records] == [
        "GPU 0 stopped answering NVML (util: NVML error 15); skipping it from now on"
    ]


def test_an_xid_event_becomes_a_sample_with_its_action_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml, clock=lambda: 7.0)
    nvml.events = [
        SimpleNamespace(device=1, eventType=0x8, eventData=79),
        SimpleNamespace(device=0, eventType=0x8, eventData=13),
    ]
    with caplog.at_level(logging.WARNING):
        xids = [s for s in collector.collect() if s.name == "gpu.xid"]
    assert xids == [
        Sample.of("gpu.xid", 79, 7.0, {"gpu": "1", "action": "reboot_node"}),
        Sample.of("gpu.xid", 13, 7.0, {"gpu": "0", "action": "restart_app"}),
    ]
    assert "GPU 1: Xid 79 (reboot_node): GPU has fallen off the bus" in caplog.text
    assert [s for s in collector.collect() if s.name == "gpu.xid"] == []


def test_a_failing_event_wait_turns_events_off_but_not_the_readings() -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml)

    def broken(event_set: str, timeout_ms: int) -> SimpleNamespace:
        raise FakeNVMLError(999)

    nvml.nvmlEventSetWait = broken  # type: ignore[method-assign]
    collector.collect()
    nvml.events = [SimpleNamespace(device=0, eventType=0x8, eventData=48)]
    got = by_key(collector.collect())
    assert got["gpu.util_pct{gpu=0}"] == 90
    assert "gpu.xid{action=reset_gpu,gpu=0}" not in got


def test_close_frees_the_event_set_and_shuts_nvml_down() -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml)
    collector.close()
    assert not nvml.shut  # never started: nothing to shut down
    collector.collect()
    collector.close()
    collector.close()
    assert nvml.shut


def test_an_xid_from_a_gpu_nvml_can_no_longer_name_is_still_reported() -> None:
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml, clock=lambda: 3.0)

    def lost_index(handle: int) -> int:
        raise FakeNVMLError(GPU_IS_LOST)

    nvml.nvmlDeviceGetIndex = lost_index  # type: ignore[method-assign]
    nvml.events = [SimpleNamespace(device=0, eventType=0x8, eventData=79)]
    xids = [s for s in collector.collect() if s.name == "gpu.xid"]
    assert xids == [Sample.of("gpu.xid", 79, 3.0, {"gpu": "unknown", "action": "reboot_node"})]


def test_two_xids_of_one_gpu_and_action_in_one_collect_are_both_stored() -> None:
    # both were stamped the collect's time: the series store refused the second as not newer
    # than the first, so a burst (13 then 43, 48 then 63) kept only its first event
    nvml = FakeNvml()
    collector = GpuCollector(nvml=nvml, clock=lambda: 1_800_000_000.0)
    nvml.events = [
        SimpleNamespace(device=0, eventType=0x8, eventData=13),
        SimpleNamespace(device=0, eventType=0x8, eventData=43),
        SimpleNamespace(device=0, eventType=0x8, eventData=48),
        SimpleNamespace(device=0, eventType=0x8, eventData=63),
    ]
    store = SeriesStore(max_series=100, ring=10)
    assert store.add_all(s for s in collector.collect() if s.name == "gpu.xid") == []
    stored = {
        key.labels: [value for _, value in store.query("gpu.xid", dict(key.labels))]
        for key in store.match("gpu.xid")
    }
    assert stored == {
        (("action", "reset_gpu"), ("gpu", "0")): [48.0, 63.0],
        (("action", "restart_app"), ("gpu", "0")): [13.0, 43.0],
    }


def test_a_gpu_lost_before_the_start_is_reported_down_and_the_others_are_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # After an Xid 79 the agent is restarted; NVML then refuses a handle for the lost GPU with
    # NVML_ERROR_GPU_IS_LOST (real pynvml errors here). That GPU is down, not the whole node.
    pynvml = pytest.importorskip("pynvml")

    class LostAtStart(FakeNvml):
        NVMLError = pynvml.NVMLError

        def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
            if index == 1:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
            return index

        def nvmlDeviceRegisterEvents(self, h: int, types: int, event_set: str) -> None:
            assert h != 1, "events registered on a GPU NVML could not open"

        def nvmlEventSetWait(self, event_set: str, timeout_ms: int) -> SimpleNamespace:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_TIMEOUT)

    collector = GpuCollector(nvml=LostAtStart(count=3))
    with caplog.at_level(logging.WARNING):
        got = by_key(collector.collect())
    assert collector.unavailable is None
    assert (got["gpu.available"], got["gpu.count"]) == (1, 3)
    assert (got["gpu.up{gpu=0}"], got["gpu.up{gpu=1}"], got["gpu.up{gpu=2}"]) == (1, 0, 1)
    assert got["gpu.util_pct{gpu=2}"] == 92
    assert not [k for k in got if "gpu=1" in k and not k.startswith("gpu.up")]
    assert [r.getMessage() for r in caplog.records] == [
        "GPU 1: NVML cannot open it (GPU is lost); reporting it down"
    ]


def _per_set_nvml() -> type[FakeNvml]:
    """A fake NVML whose event wait fails (GPU_IS_LOST) while its set holds a lost GPU."""
    pynvml = pytest.importorskip("pynvml")

    class PerSetNvml(FakeNvml):
        NVMLError = pynvml.NVMLError

        def __init__(self) -> None:
            super().__init__(count=3)
            self.sets: dict[int, set[int]] = {}
            self.freed: list[int] = []

        def _check(self, handle: int, what: str) -> None:
            self.calls.append(f"{what}:{handle}")
            if handle in self.lost:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

        def nvmlDeviceGetTotalEccErrors(self, h: int, error: int, counter: int) -> int:
            self._check(h, "ecc")
            return 0

        def nvmlEventSetCreate(self) -> int:  # type: ignore[override]
            self.sets[len(self.sets)] = set()
            return len(self.sets) - 1

        def nvmlDeviceRegisterEvents(self, h: int, types: int, event_set: int) -> None:  # type: ignore[override]
            self.sets[event_set].add(h)

        def nvmlEventSetWait(self, event_set: int, timeout_ms: int) -> SimpleNamespace:  # type: ignore[override]
            if self.sets[event_set] & self.lost:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
            if not self.events:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_TIMEOUT)
            return self.events.pop(0)

        def nvmlEventSetFree(self, event_set: int) -> None:  # type: ignore[override]
            self.freed.append(event_set)

    return PerSetNvml


def test_xids_of_the_other_gpus_keep_coming_after_one_falls_off_the_bus(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # NVML documents nvmlEventSetWait returning NVML_ERROR_GPU_IS_LOST "if a GPU has fallen off
    # the bus": the wait fails for the whole set. Turning XID events off then hid a later Xid 48
    # (double-bit ECC) on a healthy GPU. Real pynvml errors and codes here.
    nvml = _per_set_nvml()()
    collector = GpuCollector(nvml=nvml, clock=lambda: 9.0)
    collector.collect()
    nvml.lost.add(0)
    nvml.events = [SimpleNamespace(device=2, eventType=0x8, eventData=48)]
    with caplog.at_level(logging.WARNING):
        got = by_key(collector.collect())
    assert got["gpu.up{gpu=0}"] == 0
    assert got["gpu.xid{action=reset_gpu,gpu=2}"] == 48
    assert (nvml.sets[1], nvml.freed) == ({1, 2}, [0])
    nvml.events = [SimpleNamespace(device=1, eventType=0x8, eventData=94)]
    assert by_key(collector.collect())["gpu.xid{action=restart_app,gpu=1}"] == 94
    assert len(nvml.sets) == 2  # rebuilt once, not at every collect
    assert "XID events again without GPUs [0]" in caplog.text


def test_a_gpu_falling_off_between_the_readings_and_the_event_wait_does_not_end_xid_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The GPU fell off the bus after its readings and before the wait of the same collect:
    # the wait failed with GPU_IS_LOST while no GPU was known lost yet, and XID events were
    # turned off for good; a later Xid 48 on a healthy GPU was never reported.
    per_set = _per_set_nvml()

    class FallsOffAtTheWait(per_set):  # type: ignore[misc, valid-type]
        falls: int | None = None

        def nvmlEventSetWait(self, event_set: int, timeout_ms: int) -> SimpleNamespace:
            if self.falls is not None:
                self.lost.add(self.falls)
                self.falls = None
            return super().nvmlEventSetWait(event_set, timeout_ms)  # type: ignore[no-any-return]

    nvml = FallsOffAtTheWait()
    collector = GpuCollector(nvml=nvml, clock=lambda: 9.0)
    collector.collect()
    nvml.falls = 0
    with caplog.at_level(logging.WARNING):
        collector.collect()  # readings fine, then the wait: GPU_IS_LOST
        got = by_key(collector.collect())  # the readings find GPU 0 lost
        assert got["gpu.up{gpu=0}"] == 0
        nvml.events = [SimpleNamespace(device=2, eventType=0x8, eventData=48)]
        got = by_key(collector.collect())
    assert got["gpu.xid{action=reset_gpu,gpu=2}"] == 48
    assert "XID events off" not in caplog.text


def test_a_transient_nvml_error_skips_that_reading_once_and_does_not_down_the_gpu(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One "Unknown Error" (999) on a reading (nvidia-smi's "ERR!" for power, seen on busy
    # boards) marked the GPU lost for good: gpu.up=0 and no reading of it until the agent
    # restarted, a healthy GPU reported down. Only GPU_IS_LOST / RESET_REQUIRED lose it now.
    class Flaky(FakeNvml):
        fail: int | None = None

        def nvmlDeviceGetPowerUsage(self, h: int) -> int:
            if h == 0 and self.fail is not None:
                code, self.fail = self.fail, None
                raise FakeNVMLError(code)
            return super().nvmlDeviceGetPowerUsage(h)

    nvml = Flaky()
    collector = GpuCollector(nvml=nvml)
    collector.collect()
    with caplog.at_level(logging.WARNING):
        for code in (999, 10):
            nvml.fail = code
            flaky = by_key(collector.collect())
            assert flaky["gpu.up{gpu=0}"] == 1 and "gpu.power_w{gpu=0}" not in flaky
            assert flaky["gpu.temperature_c{gpu=0}"] == 65  # the other readings go on
            assert by_key(collector.collect())["gpu.power_w{gpu=0}"] == 350.5  # asked again
        nvml.fail = 16  # NVML_ERROR_RESET_REQUIRED: the GPU needs a reset, as lost
        assert by_key(collector.collect())["gpu.up{gpu=0}"] == 0
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    assert said[0] == "GPU 0: gpu.power_w failed (NVML error 999); skipped this time"
