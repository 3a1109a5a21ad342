"""Host metrics from psutil: CPU, load, memory, swap, disk space and I/O, network, processes.

:class:`HostCollector` is called by the node agent once per resolution tick; its samples travel
with the heartbeats to the controller's metrics pipeline. psutil is injected (``psutil_module=``)
and so is the clock, so tests feed a fake module whose counters change between calls.

Rates (CPU %, bytes/s, errors/s) come from the difference with the previous call's counters, so
the first call yields levels only. A counter that went backwards (a reboot, a wrap, a disk
re-attached) restarts from its new value instead of giving a negative rate.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal, Protocol

import psutil

from vigil.collectors._sample import Sample

PSEUDO_FILESYSTEMS = frozenset(
    {
        *("autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devfs"),
        *("devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc"),
        *("pstore", "ramfs", "rpc_pipefs", "securityfs", "squashfs", "sysfs", "tmpfs", "tracefs"),
    }
)
"""Filesystems whose space is not disk space (kernel views, RAM, read-only snap images at 100%)."""

STAT_TIMEOUT = 0.5
"""Seconds a collect waits for one mount's space (statvfs). A hung NFS or FUSE server makes that
call block in the kernel for ever, and the agent collects on its heartbeat path: a stuck mount
stopped the heartbeats and the node was declared down. Past this, the mount is skipped until its
call returns (one stuck thread per mount at most, as node_exporter's stuck mounts)."""

log = logging.getLogger(__name__)

_GUEST_FIELDS = frozenset({"guest", "guest_nice"})  # Linux counts guest time inside user already
_IDLE_FIELDS = frozenset({"idle", "iowait"})


class _CpuTimes(Protocol):
    def _asdict(self) -> Mapping[str, float]: ...


class _Amount(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def used(self) -> int: ...


class _VirtualMemory(_Amount, Protocol):
    @property
    def available(self) -> int: ...


class _Partition(Protocol):
    @property
    def mountpoint(self) -> str: ...
    @property
    def fstype(self) -> str: ...


class _Usage(_Amount, Protocol):
    @property
    def free(self) -> int: ...


class _DiskIO(Protocol):
    @property
    def read_bytes(self) -> int: ...
    @property
    def write_bytes(self) -> int: ...


class _NetIO(Protocol):
    @property
    def bytes_recv(self) -> int: ...
    @property
    def bytes_sent(self) -> int: ...
    @property
    def errin(self) -> int: ...
    @property
    def errout(self) -> int: ...


class _ProcCpu(Protocol):
    @property
    def user(self) -> float: ...
    @property
    def system(self) -> float: ...


class _ProcMem(Protocol):
    @property
    def rss(self) -> int: ...


class _Process(Protocol):
    def cpu_times(self) -> _ProcCpu: ...
    def memory_info(self) -> _ProcMem: ...
    def create_time(self) -> float: ...


class PsutilLike(Protocol):
    """The part of psutil that :class:`HostCollector` calls (the real module satisfies it)."""

    @property
    def Error(self) -> type[Exception]: ...
    def cpu_times(self, percpu: Literal[True]) -> Sequence[_CpuTimes]: ...
    def getloadavg(self) -> tuple[float, float, float]: ...
    def virtual_memory(self) -> _VirtualMemory: ...
    def swap_memory(self) -> _Amount: ...
    def disk_partitions(self, all: bool = ...) -> Sequence[_Partition]: ...
    def disk_usage(self, path: str) -> _Usage: ...
    def disk_io_counters(self, perdisk: Literal[True]) -> Mapping[str, _DiskIO] | None: ...
    def net_io_counters(self, pernic: Literal[True]) -> Mapping[str, _NetIO]: ...
    def Process(self, pid: int) -> _Process: ...


class _Put(Protocol):
    def __call__(self, name: str, value: float, **labels: str) -> None: ...


class _Rates:
    """Per-second rates of counters between two collects; keys not seen again are dropped."""

    def __init__(self) -> None:
        self._prev: dict[Hashable, tuple[float, float]] = {}
        self._next: dict[Hashable, tuple[float, float]] = {}

    def rate(self, key: Hashable, value: float, at: float) -> float | None:
        self._next[key] = (at, value)
        prev = self._prev.get(key)
        if prev is None or value < prev[1] or at <= prev[0]:
            return None  # first reading, counter reset, or clock not advancing: start over
        return (value - prev[1]) / (at - prev[0])

    def commit(self) -> None:
        self._prev, self._next = self._next, {}


def _busy_total(times: _CpuTimes) -> tuple[float, float]:
    fields = times._asdict()
    total = sum(v for k, v in fields.items() if k not in _GUEST_FIELDS)
    idle = sum(v for k, v in fields.items() if k in _IDLE_FIELDS)
    return total - idle, total


class HostCollector:
    """Reads one host's vital signs; call :meth:`collect` at a steady pace (e.g. every second).

    ``watch_pids`` names the supervised replicas' processes (replica id -> pid), which get
    ``proc.cpu_pct`` and ``proc.rss_bytes`` samples labelled ``replica=``.
    """

    def __init__(
        self,
        *,
        node: str,
        psutil_module: PsutilLike = psutil,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node = node
        self._ps = psutil_module
        self._clock = clock
        self._rates = _Rates()
        self._pids: dict[str, int] = {}
        self._procs: dict[str, tuple[int, float, _Process]] = {}  # replica -> (pid, start, proc)
        self._stuck: dict[str, threading.Thread] = {}  # mount -> its statvfs that never returned

    def watch_pids(self, pids: Mapping[str, int]) -> None:
        """Replace the set of watched processes (replica id -> pid)."""
        self._pids = dict(pids)
        self._procs = {r: p for r, p in self._procs.items() if self._pids.get(r) == p[0]}

    def collect(self) -> list[Sample]:
        """One reading of every host signal, stamped with one clock reading."""
        at = self._clock()
        out: list[Sample] = []

        def put(name: str, value: float, **labels: str) -> None:
            out.append(Sample.of(name, value, at, {"node": self.node, **labels}))

        self._cpu(at, put)
        load1, load5, load15 = self._ps.getloadavg()
        put("host.load.1m", load1)
        put("host.load.5m", load5)
        put("host.load.15m", load15)
        self._memory(put)
        self._disks(at, put)
        for iface, net in sorted(self._ps.net_io_counters(pernic=True).items()):
            for name, key, value in (
                ("host.net.rx_bytes_per_s", "rx", net.bytes_recv),
                ("host.net.tx_bytes_per_s", "tx", net.bytes_sent),
                ("host.net.rx_errors_per_s", "rx_err", net.errin),
                ("host.net.tx_errors_per_s", "tx_err", net.errout),
            ):
                self._put_rate(put, name, ("net", iface, key), value, at, iface=iface)
        self._processes(at, put)
        self._rates.commit()
        return out

    def _put_rate(
        self, put: _Put, name: str, key: Hashable, value: float, at: float, **labels: str
    ) -> None:
        rate = self._rates.rate(key, value, at)
        if rate is not None:
            put(name, rate, **labels)

    def _cpu(self, at: float, put: _Put) -> None:
        cores = [_busy_total(times) for times in self._ps.cpu_times(percpu=True)]
        overall = (sum(b for b, _ in cores), sum(t for _, t in cores))
        for label, (busy, total) in [(None, overall), *((str(i), c) for i, c in enumerate(cores))]:
            d_busy = self._rates.rate(("cpu_busy", label), busy, at)
            d_total = self._rates.rate(("cpu_total", label), total, at)
            if d_busy is None or not d_total:
                continue
            pct = min(100.0, max(0.0, 100.0 * d_busy / d_total))
            if label is None:
                put("host.cpu.used_pct", pct)
            else:
                put("host.cpu.core_used_pct", pct, core=label)

    def _memory(self, put: _Put) -> None:
        mem = self._ps.virtual_memory()
        put("host.mem.total_bytes", mem.total)
        put("host.mem.used_bytes", mem.used)
        put("host.mem.available_bytes", mem.available)
        if mem.total > 0:
            put("host.mem.used_pct", 100.0 * (mem.total - mem.available) / mem.total)
        swap = self._ps.swap_memory()
        put("host.swap.total_bytes", swap.total)
        put("host.swap.used_bytes", swap.used)
        put("host.swap.used_pct", 100.0 * swap.used / swap.total if swap.total else 0.0)

    def _disks(self, at: float, put: _Put) -> None:
        seen: set[str] = set()
        for part in self._ps.disk_partitions(all=False):
            if part.fstype in PSEUDO_FILESYSTEMS or part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            usage = self._disk_usage(part.mountpoint)
            if usage is None or usage.total <= 0:
                continue
            # used + free is what a user (not root) may have: 0 on a filesystem whose every
            # free block is reserved (psutil: used 0, free 0), where the division raised and
            # the whole collect with it. Nothing is left to write there: it reads full.
            room = usage.used + usage.free
            used_pct = 100.0 * usage.used / room if room > 0 else 100.0
            put("host.disk.used_pct", used_pct, mount=part.mountpoint)
            put("host.disk.free_bytes", usage.free, mount=part.mountpoint)
        for disk, io in sorted((self._ps.disk_io_counters(perdisk=True) or {}).items()):
            for name, key, value in (
                ("host.disk.read_bytes_per_s", "r", io.read_bytes),
                ("host.disk.write_bytes_per_s", "w", io.write_bytes),
            ):
                self._put_rate(put, name, ("disk", disk, key), value, at, disk=disk)

    def _disk_usage(self, mount: str) -> _Usage | None:
        """The mount's space, or None: unreadable (unmounted meanwhile, not ours to read) or
        not answering within :data:`STAT_TIMEOUT` (then skipped while that call is stuck)."""
        stuck = self._stuck.get(mount)
        if stuck is not None:
            if stuck.is_alive():
                return None
            del self._stuck[mount]
            log.info("mount %s answers again", mount)
        got: list[_Usage] = []

        def stat() -> None:
            with contextlib.suppress(OSError):  # unmounted meanwhile, or not ours to read
                got.append(self._ps.disk_usage(mount))

        call = threading.Thread(target=stat, name=f"statvfs {mount}", daemon=True)
        call.start()
        call.join(STAT_TIMEOUT)
        if call.is_alive():
            self._stuck[mount] = call
            log.warning(
                "mount %s did not answer statvfs in %gs (a hung network filesystem?); "
                "skipped until it does",
                mount,
                STAT_TIMEOUT,
            )
            return None
        return got[0] if got else None

    def _processes(self, at: float, put: _Put) -> None:
        for replica, pid in sorted(self._pids.items()):
            try:
                known = self._procs.get(replica)
                if known is None or known[0] != pid:
                    proc = self._ps.Process(pid)
                    known = (pid, proc.create_time(), proc)
                    self._procs[replica] = known
                cpu = known[2].cpu_times()
                rss = known[2].memory_info().rss
            except self._ps.Error:  # gone, a zombie, or not ours: no reading this round
                self._procs.pop(replica, None)
                continue
            # The start time keys the counter, so a reused pid never yields a rate across processes.
            key = ("proc", replica, known[0], known[1])
            self._put_rate(
                put, "proc.cpu_pct", key, 100.0 * (cpu.user + cpu.system), at, replica=replica
            )
            put("proc.rss_bytes", rss, replica=replica)


def host_facts(psutil_module: Any = psutil) -> dict[str, float | int]:
    """The node's facts a heartbeat carries and placement reads (``memory_free_mb``,
    ``cpu_pct``): sent by :func:`vigil.agent.host_info`, and read in place by the controller
    for its own host when no agent runs there (:mod:`vigil.daemon._placement`)."""
    vm = psutil_module.virtual_memory()
    return {
        "cpu_pct": psutil_module.cpu_percent(interval=None),
        "mem_pct": vm.percent,
        "memory_free_mb": vm.available // (1024 * 1024),
        "load1": psutil_module.getloadavg()[0],
    }
