"""HostCollector: host and process metrics from an injected psutil, with rates between calls."""

from __future__ import annotations

import os
import threading
from collections import namedtuple

import psutil
import pytest

from vigil.collectors import HostCollector, Sample

CpuTimes = namedtuple("CpuTimes", "user system idle iowait guest")
VMem = namedtuple("VMem", "total available used")
Swap = namedtuple("Swap", "total used")
Part = namedtuple("Part", "device mountpoint fstype")
Usage = namedtuple("Usage", "total used free")
DiskIO = namedtuple("DiskIO", "read_bytes write_bytes")
NetIO = namedtuple("NetIO", "bytes_recv bytes_sent errin errout")
ProcCpu = namedtuple("ProcCpu", "user system")
ProcMem = namedtuple("ProcMem", "rss")


class FakeError(Exception):
    pass


class FakeProcess:
    def __init__(self, ps: FakePsutil, pid: int) -> None:
        if pid not in ps.procs:
            raise FakeError(f"no process {pid}")
        self.ps, self.pid = ps, pid

    def create_time(self) -> float:
        return self.ps.procs[self.pid][0]

    def cpu_times(self) -> ProcCpu:
        if self.pid not in self.ps.procs:
            raise FakeError(f"no process {self.pid}")
        return ProcCpu(self.ps.procs[self.pid][1], 0.0)

    def memory_info(self) -> ProcMem:
        return ProcMem(self.ps.procs[self.pid][2])


class FakePsutil:
    """A psutil stand-in whose counters the test moves between collects."""

    Error = FakeError

    def __init__(self) -> None:
        self.cores = [CpuTimes(10.0, 5.0, 85.0, 0.0, 0.0), CpuTimes(0.0, 0.0, 100.0, 0.0, 0.0)]
        self.disk = {"sda": DiskIO(1000, 2000)}
        self.net = {"eth0": NetIO(10_000, 5_000, 0, 0)}
        self.procs: dict[int, tuple[float, float, int]] = {42: (1000.0, 1.0, 50_000_000)}
        self.parts = [
            Part("/dev/sda1", "/", "ext4"),
            Part("tmpfs", "/run", "tmpfs"),
            Part("/dev/loop0", "/snap/core", "squashfs"),
            Part("/dev/sdb1", "/data", "xfs"),
        ]

    def cpu_times(self, percpu: bool) -> list[CpuTimes]:
        assert percpu
        return list(self.cores)

    def getloadavg(self) -> tuple[float, float, float]:
        return (0.5, 0.25, 0.125)

    def virtual_memory(self) -> VMem:
        return VMem(total=1000, available=250, used=700)

    def swap_memory(self) -> Swap:
        return Swap(total=0, used=0)

    def disk_partitions(self, all: bool = False) -> list[Part]:
        return list(self.parts)

    def disk_usage(self, path: str) -> Usage:
        if path == "/data":
            raise PermissionError(path)
        return Usage(total=100, used=90, free=10)

    def disk_io_counters(self, perdisk: bool) -> dict[str, DiskIO]:
        return dict(self.disk)

    def net_io_counters(self, pernic: bool) -> dict[str, NetIO]:
        return dict(self.net)

    def Process(self, pid: int) -> FakeProcess:
        return FakeProcess(self, pid)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def values(samples: list[Sample]) -> dict[str, float]:
    """name{label=value} -> value, without the node label."""
    out = {}
    for s in samples:
        labels = ",".join(f"{k}={v}" for k, v in s.labels if k != "node")
        out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


Setup = tuple[FakePsutil, Clock, HostCollector]


@pytest.fixture
def setup() -> Setup:
    ps, clock = FakePsutil(), Clock()
    collector = HostCollector(node="n1", psutil_module=ps, clock=clock)
    collector.watch_pids({"api-0": 42})
    return ps, clock, collector


def test_the_first_collect_gives_levels_but_no_rates(setup: Setup) -> None:
    _, _, collector = setup
    got = values(collector.collect())
    assert got["host.load.1m"] == 0.5
    assert got["host.mem.used_pct"] == 75.0
    assert got["host.mem.available_bytes"] == 250
    assert got["host.swap.used_pct"] == 0.0
    assert got["proc.rss_bytes{replica=api-0}"] == 50_000_000
    assert not [name for name in got if "per_s" in name or "cpu" in name]


def test_every_sample_carries_the_node_and_the_clock_time(setup: Setup) -> None:
    _, clock, collector = setup
    samples = collector.collect()
    assert {s.at for s in samples} == {clock.now}
    assert all(s.label("node") == "n1" for s in samples)


def test_pseudo_filesystems_and_unreadable_mounts_are_skipped(setup: Setup) -> None:
    _, _, collector = setup
    got = values(collector.collect())
    assert got["host.disk.used_pct{mount=/}"] == 90.0
    assert got["host.disk.free_bytes{mount=/}"] == 10
    assert not [name for name in got if "/run" in name or "/snap" in name or "/data" in name]


class AllReserved(FakePsutil):
    """/ has blocks but every free one is reserved for root: psutil gives used 0 and free 0."""

    def disk_usage(self, path: str) -> Usage:
        if path == "/":
            return Usage(total=100, used=0, free=0)
        return super().disk_usage(path)


def test_a_filesystem_whose_blocks_are_all_reserved_reads_full_not_a_crash() -> None:
    # used / (used + free) divided by zero: the whole collect raised, and no host metric came.
    collector = HostCollector(node="n1", psutil_module=AllReserved(), clock=Clock())
    got = values(collector.collect())
    assert got["host.disk.used_pct{mount=/}"] == 100.0  # nothing left that a user may write
    assert got["host.disk.free_bytes{mount=/}"] == 0
    assert got["host.load.1m"] == 0.5


class HungMount(FakePsutil):
    """/mnt/nfs is a network filesystem whose server stopped answering: statvfs blocks (in the
    kernel, for real) until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.parts.append(Part("nfs:/export", "/mnt/nfs", "nfs4"))
        self.server_back = threading.Event()
        self.nfs_stats = 0

    def disk_usage(self, path: str) -> Usage:
        if path == "/mnt/nfs":
            self.nfs_stats += 1
            self.server_back.wait()
            return Usage(total=1000, used=100, free=900)
        return super().disk_usage(path)


@pytest.mark.timeout(20)
def test_a_hung_network_mount_does_not_stall_the_collect_and_is_read_once_it_answers() -> None:
    # The agent collects on its heartbeat path: a collect blocked on the mount stopped the
    # heartbeats, and the controller declared the node down.
    ps = HungMount()
    collector = HostCollector(node="n1", psutil_module=ps, clock=Clock())
    try:
        first = values(collector.collect())
        second = values(collector.collect())
        for got in (first, second):
            assert got["host.disk.used_pct{mount=/}"] == 90.0
            assert not [name for name in got if "/mnt/nfs" in name]
        assert ps.nfs_stats == 1  # one stuck call, not one more thread per collect
    finally:
        ps.server_back.set()
    for call in threading.enumerate():
        if call.name == "statvfs /mnt/nfs":
            call.join(10)  # the stuck call returns now that the server answers
    got = values(collector.collect())
    assert got["host.disk.free_bytes{mount=/mnt/nfs}"] == 900
    assert ps.nfs_stats == 2


def test_rates_come_from_the_counters_of_the_previous_call(setup: Setup) -> None:
    ps, clock, collector = setup
    collector.collect()
    clock.now += 2.0
    ps.cores = [CpuTimes(15.0, 10.0, 85.0, 0.0, 3.0), CpuTimes(1.0, 0.0, 103.0, 0.0, 0.0)]
    ps.disk = {"sda": DiskIO(3000, 2000)}
    ps.net = {"eth0": NetIO(30_000, 6_000, 4, 0)}
    ps.procs[42] = (1000.0, 2.5, 60_000_000)
    got = values(collector.collect())
    assert got["host.cpu.core_used_pct{core=0}"] == 100.0  # guest time counts inside user
    assert got["host.cpu.core_used_pct{core=1}"] == 25.0
    assert got["host.cpu.used_pct"] == pytest.approx(100.0 * 11 / 14)
    assert got["host.disk.read_bytes_per_s{disk=sda}"] == 1000.0
    assert got["host.disk.write_bytes_per_s{disk=sda}"] == 0.0
    assert got["host.net.rx_bytes_per_s{iface=eth0}"] == 10_000.0
    assert got["host.net.tx_bytes_per_s{iface=eth0}"] == 500.0
    assert got["host.net.rx_errors_per_s{iface=eth0}"] == 2.0
    assert got["proc.cpu_pct{replica=api-0}"] == 75.0
    assert got["proc.rss_bytes{replica=api-0}"] == 60_000_000


def test_a_counter_that_goes_backwards_restarts_instead_of_giving_a_negative_rate(
    setup: Setup,
) -> None:
    ps, clock, collector = setup
    collector.collect()
    clock.now += 1.0
    ps.net = {"eth0": NetIO(100, 50, 0, 0)}  # the interface was reset
    ps.disk = {"sda": DiskIO(5000, 1000)}  # write counter wrapped
    first = values(collector.collect())
    assert "host.net.rx_bytes_per_s{iface=eth0}" not in first
    assert "host.disk.write_bytes_per_s{disk=sda}" not in first
    assert first["host.disk.read_bytes_per_s{disk=sda}"] == 4000.0
    clock.now += 1.0
    ps.net = {"eth0": NetIO(1100, 50, 0, 0)}
    assert values(collector.collect())["host.net.rx_bytes_per_s{iface=eth0}"] == 1000.0


def test_a_clock_that_does_not_advance_gives_no_rates(setup: Setup) -> None:
    ps, _, collector = setup
    collector.collect()
    ps.disk = {"sda": DiskIO(9000, 9000)}
    assert not [n for n in values(collector.collect()) if "per_s" in n or "cpu" in n]


def test_a_vanished_process_is_skipped_and_a_reused_pid_gets_no_rate_across_processes(
    setup: Setup,
) -> None:
    ps, clock, collector = setup
    collector.collect()
    del ps.procs[42]
    clock.now += 1.0
    assert not [n for n in values(collector.collect()) if "replica" in n]
    ps.procs[42] = (2000.0, 7.0, 1000)  # same pid, another process
    clock.now += 1.0
    got = values(collector.collect())
    assert got["proc.rss_bytes{replica=api-0}"] == 1000
    assert "proc.cpu_pct{replica=api-0}" not in got


def test_watch_pids_replaces_the_watched_set(setup: Setup) -> None:
    ps, _, collector = setup
    ps.procs[7] = (10.0, 0.0, 123)
    collector.watch_pids({"worker-1": 7})
    got = values(collector.collect())
    assert got["proc.rss_bytes{replica=worker-1}"] == 123
    assert "proc.rss_bytes{replica=api-0}" not in got


def test_against_the_real_psutil_the_readings_are_in_sane_ranges() -> None:
    collector = HostCollector(node="here")
    collector.watch_pids({"me": os.getpid()})
    collector.collect()
    got: dict[str, float] = {}
    for _ in range(1000):  # /proc/stat ticks every 10 ms: work until the counters have moved
        sum(i * i for i in range(20_000))
        got = values(collector.collect())
        # overall and per-core times are two separate reads of /proc/stat: wait for both
        moved = any(n.startswith("host.cpu.core_used_pct") for n in got)
        if "host.cpu.used_pct" in got and moved:
            break
    assert 0.0 <= got["host.cpu.used_pct"] <= 100.0
    cores = [v for n, v in got.items() if n.startswith("host.cpu.core_used_pct")]
    assert 1 <= len(cores) <= (psutil.cpu_count() or 1)  # a core whose ticks did not move: none
    assert all(0.0 <= v <= 100.0 for v in cores)
    assert 0.0 < got["host.mem.used_pct"] < 100.0
    assert got["host.mem.total_bytes"] > 0
    assert got["proc.cpu_pct{replica=me}"] >= 0.0
    assert got["proc.rss_bytes{replica=me}"] > 1_000_000
    assert all(0.0 <= v <= 100.0 for n, v in got.items() if n.startswith("host.disk.used_pct"))
    assert all(v >= 0.0 for n, v in got.items() if "per_s" in n)
