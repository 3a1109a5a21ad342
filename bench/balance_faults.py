"""Balancer faults and live decision quality: real replicas, real proxy, kill -9 and SIGSTOP.

    python bench/balance_faults.py            # 10 kill trials per setup, 30 s per policy
    python bench/balance_faults.py --quick    # 2 trials, 5 s per policy (CI: under ~60 s)
    python bench/balance_faults.py --trials 20 --policy-seconds 60
    python bench/balance_faults.py --part faults   # part 1 alone (its JSON line: part 1 only)

Part 1, **faults** (issue 3): three replicas of the fake model server
(``vigil.demo.model_server``) behind a balancer; an open-loop client (a separate process, raw
asyncio HTTP/1.1 with keep-alive, requests started on a fixed schedule whatever the completions)
sends 300 req/s: alternately ``GET /healthz`` and ``POST /v1/completions`` (~150 req/s each).
After a warm-up one replica is killed with SIGKILL. Three setups, each trial on a fresh kill:

- ``vigil controller``: an in-process :class:`vigil.daemon.Controller` supervising the replicas,
  balancer ``p2c_ewma``, slow start 0, readiness probe every 0.1 s (the supervisor sees the exit
  through a pidfd and restarts the replica);
- ``vigil passive``: the same Pool + Proxy (``vigil balance`` without probes), replicas run by the
  bench: only the proxy's passive ejection (refused connections) takes the dead replica out;
- ``vigil passive, retry_on_reset off``: the same, without the retry of a POST the victim
  reset unread (the product before branch ``post``): this run's control for that retry;
- ``haproxy`` (the baseline, if ``/usr/sbin/haproxy`` exists): ``nbthread 1``, round robin,
  ``retries 2``, ``option redispatch 1``, ``retry-on conn-failure empty-response``, health checks
  every 100 ms (``fall 1``) and ``observe layer7`` with ``on-error mark-down``.

How each figure is counted:

- client errors: responses that are not 200, or a failed connection / read, seen by the client;
- in flight at the kill: attempts on the victim that started before the kill and ended after it.
  Vigil: the bench wraps ``ExchangeCore._release`` (one record per attempt: upstream, method,
  start, end, outcome); HAProxy: ``scur`` of the victim on its stats socket ~2 ms before the
  kill (all methods; a GET lasts ~1 ms), since HAProxy does not log the POSTs it cuts off;
- POST in flight retried: of those, the POSTs the proxy retried on another replica because the
  victim reset the connection unread (``retry_on_reset``; Vigil only: the hook keeps the
  exchange of each attempt, and a later attempt of the same request after an attempt that
  ended ``connect_error`` is such a retry; refused connects, retried for any method, are not
  counted); POSTs sent to the victim *after* the kill and retried so are counted apart
  ("retried after kill");
- POST errors beyond those in flight: client POST errors minus the POSTs in flight on the
  victim that were not retried (each of those failed: a sent POST has no other way to end);
- time to stop sending: last time the victim was picked after the kill, minus the kill (0 when it
  was never picked again). Vigil: the bench wraps ``Pool.acquire`` to record ``(now, upstream)``
  of every pick, up to the moment the restarted replica is readmitted; HAProxy: the last request
  accepted after the kill that was retried (``%rc`` > 0: its first connect failed, on the dead
  server) or that ended on the victim (millisecond log resolution).

Part 2, **decision quality, live**: five model servers run by the bench (latency 40 ms, one at
120 ms, one stalled with SIGSTOP for 1 s in every 5 s, SIGCONT after), a Pool + Proxy with each
policy in turn (fresh state, no probes, so nothing restarts the stalled one), open-loop POSTs at
150 req/s (the servers sleep, so capacity is a CPU matter: ~9 requests in flight on average);
client-side p50/p99 measured from each request's *scheduled* start (no coordinated omission).
There is no oracle live (only the simulation, ``bench/balance_sim.py``, has one).

Part 3, **workers sharing in-flight counts, live** (``--part workers`` runs it alone): five
one-request-at-a-time replicas (this script in ``--replica`` mode: a FIFO queue in front of one
slot, log-normal service times with a 40 ms mean, one at 120 ms, one SIGSTOPped 1 s in every
5 s), a ``vigil balance``-like group of worker processes (:class:`vigil.balancer.proxy.Workers`,
p2c_ewma, slow start 0) and the open-loop POST client at 80 % of the replicas' capacity. Four
setups on the same replicas, same schedule, one after the other: one worker (the reference), two
workers each seeing only its own requests (``share`` off), two workers sharing their in-flight
counts only (``learned=False``: the product before branch fit), and two sharing what p2c_ewma
has learned too (the product's default for ``workers: 2``). The baseline of this part is the two
unshared workers; ``sharing / unshared`` p99 is the figure. Arrivals here are Poisson (a fixed
seed, the same schedule for every setup), as in the simulation; parts 1 and 2 keep evenly spaced
ones.

Prints Rich tables on stderr, then ONE JSON line on stdout with the figures and the baseline's.
The bench monkeypatches the two methods above for measurement only; the product code is as is.
Patches do not reach compiled (mypyc) methods, so parts 1 and 2 run the balancer in this process
from its sources (see ``install_hooks``); part 3's workers run the compiled build. A hook that
raises (a product signature it no longer matches) stops the bench with its traceback
(``loud``, ``Probe.check``) instead of passing for the clients' errors it causes.
Every process it starts is stopped (stalled ones get SIGCONT first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from rich.console import Console
from rich.table import Table

from vigil.backends import free_port

console = Console(stderr=True, width=150)
HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
POLICIES = ("round_robin", "least_conn", "least_time", "p2c_ewma")
FAULT_RATE = 300.0
LIVE_RATE = 150.0
STALL_PERIOD, STALL_LENGTH, STALL_OFFSET = 5.0, 1.0, 1.5

# --------------------------------------------------------------------------------------------
# The client (a separate process: `balance_faults.py --client PORT RATE SECONDS MIX`)
# --------------------------------------------------------------------------------------------

GET_REQ = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
_BODY = b'{"prompt": "hello from the bench"}'
POST_REQ = (
    b"POST /v1/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%b" % (len(_BODY), _BODY)
)
CLIENT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: one request per connection at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, raw: bytes) -> int:
        conn = self.idle.pop() if self.idle else None
        if conn is None:
            conn = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = conn
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self.idle.append(conn)
        return status


async def client_main(port: int, rate: float, seconds: float, mix: str) -> None:
    """Open loop: request i starts at t0 + i / rate (``post-poisson``: after exponential gaps of
    mean 1 / rate, seeded); prints ``START t0`` then one JSON line."""
    client = RawClient(port)
    records: list[list[float]] = []  # [scheduled, is_post, status (0: failed), latency, lag]
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, at: float, post: bool) -> None:
        lag = time.monotonic() - at
        try:
            async with asyncio.timeout(30):
                status = await client.request(POST_REQ if post else GET_REQ)
        except (*CLIENT_ERRORS, TimeoutError):
            status = 0
        records.append([at, float(post), float(status), time.monotonic() - at, lag])

    t0 = time.monotonic() + 0.05
    sys.stdout.write(f"START {t0!r}\n")
    sys.stdout.flush()
    i = 0
    poisson = mix == "post-poisson"  # exponential gaps from a fixed seed: the same every run
    gaps = random.Random(7)
    offset = 0.0
    while (at := t0 + (offset if poisson else i / rate)) < t0 + seconds:
        if poisson:
            offset += gaps.expovariate(rate)
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        post = mix != "mix" or i % 2 == 1
        task = asyncio.create_task(one(i, at, post))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
    sent_until = time.monotonic()
    if tasks:
        await asyncio.wait(set(tasks), timeout=35)
    for _, writer in client.idle:
        writer.close()
    achieved = i / max(sent_until - t0, 1e-9)
    sys.stdout.write(json.dumps({"records": records, "achieved_rate": achieved}) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# Measurement hooks (monkeypatched: measurement only)
# --------------------------------------------------------------------------------------------

PURE_ENV = "VIGIL_PURE_PYTHON"


@dataclass
class Probe:
    picks: list[tuple[float, str]] = field(default_factory=list)
    attempts: list[tuple[str, bytes, float, float, str, tuple[int, float]]] = field(
        default_factory=list
    )
    health: list[tuple[float, str, bool]] = field(default_factory=list)
    ejections: list[tuple[float, str]] = field(default_factory=list)
    # how each attempt that lost its upstream connection saw it: "eof", "reset", ...
    lost: dict[tuple[int, float], str] = field(default_factory=dict)

    # the first exception a measurement hook raised, with its traceback (see loud)
    failure: str | None = None

    def check(self) -> None:
        """Stop the bench with the hook's error: a hook that raised inside the proxy would
        otherwise show up only as the clients' errors (502s, resets), as if measured."""
        if self.failure is not None:
            raise SystemExit(f"balance_faults: a measurement hook raised:\n{self.failure}")

    def clear(self) -> None:
        self.check()
        self.picks.clear()
        self.attempts.clear()
        self.health.clear()
        self.ejections.clear()
        self.lost.clear()


PROBE = Probe()
HookT = TypeVar("HookT", bound=Callable[..., Any])


def loud(hook: HookT) -> HookT:
    """``hook`` recording the first exception it raises in ``PROBE.failure`` (then re-raised to
    the proxy): every figure read from the probe first checks it (``PROBE.check``), so a hook
    that breaks stops the bench with its own error instead of passing for client errors."""

    @functools.wraps(hook)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return hook(*args, **kwargs)
        except BaseException:
            if PROBE.failure is None:
                PROBE.failure = traceback.format_exc()
            raise

    return cast(HookT, wrapper)


def install_hooks() -> None:
    """Patch the measurement hooks in. The compiled data plane (mypyc) calls its own methods
    directly, past a patched class attribute, so the hooks would never run (every attempt and
    pick went unrecorded, silently): this process imports the balancer from its sources
    (``VIGIL_PURE_PYTHON`` set for the import only, so part 3's worker processes, spawned later,
    still run the compiled build as deployed). The behaviour measured here is the same in both
    builds (``make test`` runs the balancer's tests on each)."""
    saved = os.environ.get(PURE_ENV)
    os.environ[PURE_ENV] = "1"
    try:
        from vigil.balancer._proxy_core import ExchangeCore
        from vigil.balancer._proxy_exchange import Exchange
        from vigil.balancer._pure import build
        from vigil.balancer.pool import Pool
    finally:
        if saved is None:
            del os.environ[PURE_ENV]
        else:
            os.environ[PURE_ENV] = saved
    if build() != "pure Python":
        raise SystemExit("balance_faults: the balancer was imported compiled before the hooks")

    acquire, release = Pool.acquire, ExchangeCore._release
    set_health, eject = Pool.set_health, Pool._eject
    lost = Exchange.upstream_lost

    @loud
    def lost_hook(self: Exchange, conn: Any, exc: Exception | None) -> None:
        reset = isinstance(exc, ConnectionResetError)
        how = "eof" if exc is None else "reset" if reset else type(exc).__name__
        PROBE.lost[(id(self), self.t_attempt)] = how
        lost(self, conn, exc)

    @loud
    def acquire_hook(self: Pool, now: float, key: str | None = None, exclude: Any = frozenset()):  # type: ignore[no-untyped-def]
        upstream = acquire(self, now, key, exclude)
        if upstream is not None:
            PROBE.picks.append((now, upstream.id))
        return upstream

    @loud
    def release_hook(self: ExchangeCore, outcome: Any, *args: Any, **kwargs: Any) -> None:
        # the rest passed on as given (retry_after, counted, now: the signature grows)
        upstream = self.upstream
        if upstream is not None:
            end = self.state.clock()
            request = (id(self), self.t_start)  # an exchange object serves one request at a time
            PROBE.attempts.append(
                (upstream.id, self.method, self.t_attempt, end, str(outcome), request)
            )
        release(self, outcome, *args, **kwargs)

    @loud
    def health_hook(self: Pool, upstream_id: str, healthy: bool, now: float) -> None:
        PROBE.health.append((now, upstream_id, healthy))
        set_health(self, upstream_id, healthy, now)

    @loud
    def eject_hook(self: Pool, upstream: Any, now: float) -> None:
        before = upstream.ejected_until
        eject(self, upstream, now)
        if upstream.ejected_until != before:
            PROBE.ejections.append((now, upstream.id))

    Pool.acquire = acquire_hook  # type: ignore[method-assign]
    ExchangeCore._release = release_hook  # type: ignore[method-assign]
    Pool.set_health = health_hook  # type: ignore[method-assign]
    Pool._eject = eject_hook  # type: ignore[method-assign]
    Exchange.upstream_lost = lost_hook  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


async def wait_port(port: int, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            await asyncio.sleep(0.02)
        else:
            writer.close()
            return


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 3)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


class Servers:
    """Model servers run by the bench (not supervised), on fixed ports."""

    def __init__(self, latencies: list[float]) -> None:
        self.latencies = latencies
        self.ports = [free_port() for _ in latencies]
        self.procs: list[asyncio.subprocess.Process | None] = [None] * len(latencies)

    async def start(self, index: int | None = None) -> None:
        for i in range(len(self.ports)) if index is None else [index]:
            self.procs[i] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "vigil.demo.model_server",
                "--port",
                str(self.ports[i]),
                "--load-time",
                "0",
                "--latency-ms",
                str(self.latencies[i]),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        for i in range(len(self.ports)) if index is None else [index]:
            await wait_port(self.ports[i])

    def pid(self, index: int) -> int:
        proc = self.procs[index]
        assert proc is not None
        return proc.pid

    async def ensure(self) -> None:
        """Restart any server that died (the kill of the previous trial)."""
        for i, proc in enumerate(self.procs):
            if proc is None or proc.returncode is not None:
                if proc is not None:
                    await proc.wait()
                await self.start(i)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc is not None:
                await stop_process(proc)


async def run_client(
    port: int, rate: float, seconds: float, mix: str, at_start: Any = None
) -> dict[str, Any]:
    """Run the client process; ``at_start(t0)`` is awaited once it has started its schedule."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        str(port),
        str(rate),
        str(seconds),
        mix,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = (await proc.stdout.readline()).decode()
        if not line.startswith("START "):
            raise RuntimeError(f"client did not start: {line!r}")
        t0 = float(line.split()[1])
        if at_start is not None:
            await at_start(t0)
        out = await proc.stdout.read()
        await proc.wait()
    finally:
        await stop_process(proc)
    result: dict[str, Any] = json.loads(out)
    result["t0"] = t0
    return result


async def sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


# --------------------------------------------------------------------------------------------
# Part 1: faults
# --------------------------------------------------------------------------------------------


def settings_for(workdir: Path, policy: str) -> Any:
    from vigil.settings import Settings

    server = [sys.executable, "-m", "vigil.demo.model_server", "--port", "{port}"]
    return Settings.model_validate(
        {
            "data_dir": str(workdir / "data"),
            "api": {"port": 0},
            "services": [
                {
                    "name": "llm",
                    "command": [*server, "--load-time", "0"],
                    "replicas": 3,
                    "stop_grace": 2,
                    "readiness": {
                        "http": {"path": "/ready"},
                        "interval": 0.1,
                        "timeout": 0.5,
                        "failure_threshold": 1,
                    },
                    "restart": {
                        "backoff_reset": 1.0,
                        "crash_loop": {"max_restarts": 1000, "window": 60},
                    },
                    "balancer": {"policy": policy, "slow_start": 0},
                }
            ],
        }
    )


def client_errors(result: dict[str, Any]) -> dict[str, Any]:
    recs = result["records"]
    get = [r for r in recs if not r[1]]
    post = [r for r in recs if r[1]]
    statuses: dict[str, int] = {}
    for r in recs:
        if r[2] != 200:
            key = ("POST " if r[1] else "GET ") + (str(int(r[2])) if r[2] else "conn")
            statuses[key] = statuses.get(key, 0) + 1
    return {
        "get_sent": len(get),
        "post_sent": len(post),
        "get_errors": sum(1 for r in get if r[2] != 200),
        "post_errors": sum(1 for r in post if r[2] != 200),
        "error_kinds": statuses,
        "client_rate": result["achieved_rate"],
        "client_lag_max_ms": max((r[4] for r in recs), default=0.0) * 1000,
    }


def vigil_kill_figures(victim: str, t_kill: float) -> dict[str, Any]:
    """From the hooks: in flight on the victim at the kill, and when it stopped being picked."""
    PROBE.check()
    back = [t for t, uid, ok in PROBE.health if uid == victim and ok and t > t_kill]
    readmitted = min(back, default=float("inf"))
    picks = [t for t, uid in PROBE.picks if uid == victim and t_kill <= t < readmitted]
    inflight = [a for a in PROBE.attempts if a[0] == victim and a[2] <= t_kill < a[3]]
    later = [a for a in PROBE.attempts if a[0] == victim and a[2] > t_kill and a[3] > t_kill]

    def retried(a: tuple[str, bytes, float, float, str, tuple[int, float]]) -> bool:
        """Sent, reset or closed before an answer, and tried again (a refused connect sent
        nothing and is retried whatever the method: not counted)."""
        return a[4] == "connect_error" and any(b[5] == a[5] and b[2] > a[2] for b in PROBE.attempts)

    removed = [t for t, uid, ok in PROBE.health if uid == victim and not ok and t >= t_kill]
    ejected = [t for t, uid in PROBE.ejections if uid == victim and t >= t_kill]
    out = {
        "stop_ms": (max(picks) - t_kill) * 1000 if picks else 0.0,
        "dead_picks": len(picks),
        "inflight_post": sum(1 for a in inflight if a[1] == b"POST"),
        "inflight_post_retried": sum(1 for a in inflight if a[1] == b"POST" and retried(a)),
        "post_after_kill_retried": sum(1 for a in later if a[1] == b"POST" and retried(a)),
        # POSTs sent to the victim after the kill that failed: how their connection ended
        # ("eof": the victim read them, still running when the kill returned)
        "post_after_kill_failed": [
            PROBE.lost.get((a[5][0], a[2]), "?")
            for a in later
            if a[1] == b"POST" and a[4] == "connect_error" and not retried(a)
        ],
        "inflight_get": sum(1 for a in inflight if a[1] != b"POST"),
        "unhealthy_ms": (min(removed) - t_kill) * 1000 if removed else None,
        "ejected_ms": (min(ejected) - t_kill) * 1000 if ejected else None,
    }
    return out


async def kill_trial(
    port: int, pid: int, warmup: float, after: float, before_kill: Any = None
) -> tuple[dict[str, Any], float, Any]:
    """Run the client; kill ``pid`` after ``warmup`` (``before_kill()`` is awaited just before,
    and its value returned)."""
    t_kill = 0.0
    seen: Any = None

    async def kill_at(t0: float) -> None:
        nonlocal t_kill, seen
        await sleep_until(t0 + warmup - 0.002)
        if before_kill is not None:
            seen = await before_kill()
        await sleep_until(t0 + warmup)
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)

    result = await run_client(port, FAULT_RATE, warmup + after, "mix", kill_at)
    return result, t_kill, seen


async def haproxy_scur(sock: Path, server: str) -> int:
    """Sessions in progress on ``server`` (``scur`` of ``show stat`` on the stats socket)."""
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(b"show stat\n")
    data = (await reader.read()).decode()
    writer.close()
    header = data.splitlines()[0].lstrip("# ").split(",")
    for line in data.splitlines()[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "be" and row.get("svname") == server:
            return int(row["scur"] or 0)
    return 0


async def controller_trials(trials: int, warmup: float, after: float) -> list[dict[str, Any]]:
    from vigil.daemon import Controller
    from vigil.model import Health, ReplicaId

    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-faults-"))
    ctl = Controller(settings_for(workdir, "p2c_ewma"), base_dir=workdir)
    run = asyncio.create_task(ctl.run())
    out = []
    try:
        await asyncio.wait_for(ctl.started.wait(), 30)
        port = ctl.balancers.ports["llm"]
        pool = ctl.balancers.pools["llm"]
        for trial in range(trials):
            deadline = time.monotonic() + 30
            while not (
                all(r.ready == Health.HEALTHY for r in ctl.replicas("llm"))
                and len(pool.eligible(time.monotonic())) == 3
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the fleet did not settle")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            victim = f"llm/{trial % 3}"
            info = ctl.runners[ReplicaId(victim)].info
            assert info is not None
            PROBE.clear()
            result, t_kill, _ = await kill_trial(port, info.pid, warmup, after)
            out.append({**client_errors(result), **vigil_kill_figures(victim, t_kill)})
    finally:
        ctl.stop()
        await run
        shutil.rmtree(workdir, ignore_errors=True)
    return out


async def passive_trials(
    trials: int, warmup: float, after: float, max_retries: int | None = None, **more: Any
) -> list[dict[str, Any]]:
    from vigil.balancer import Pool, Upstream
    from vigil.balancer.proxy import Proxy
    from vigil.daemon._balancing import pool_settings, proxy_settings
    from vigil.settings import BalancerSettings

    over: dict[str, Any] = {"policy": "p2c_ewma", "slow_start": 0}
    if max_retries is not None:
        over["max_retries"] = max_retries
    b = BalancerSettings.model_validate({**over, **more})
    servers = Servers([40.0] * 3)
    out = []
    try:
        await servers.start()
        for trial in range(trials):
            await servers.ensure()
            ups = [Upstream(f"s{i}", "127.0.0.1", p) for i, p in enumerate(servers.ports)]
            proxy = Proxy(Pool(ups, pool_settings(b)), settings=proxy_settings(b))
            port = await proxy.start("127.0.0.1", 0)
            try:
                victim = trial % 3
                PROBE.clear()
                result, t_kill, _ = await kill_trial(port, servers.pid(victim), warmup, after)
                out.append({**client_errors(result), **vigil_kill_figures(f"s{victim}", t_kill)})
            finally:
                await proxy.stop(1.0)
    finally:
        await servers.stop()
    return out


HAPROXY_LOG = re.compile(r"^(\d+)\.(\d+) (\S+) (-?\d+) (\+?\d+) (\S+) (-?\d+)$")


def haproxy_config(path: Path, port: int, backends: list[int], stats: Path) -> None:
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backends))
    path.write_text(
        f"""
global
    nbthread 1
    maxconn 4000
    log stdout format raw local0
    stats socket {stats} level admin
defaults
    mode http
    log global
    log-format "%Ts.%ms %s %ST %rc %HM %Ta"
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    option redispatch 1
    retries 2
    retry-on conn-failure empty-response
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
    # the same safety rule as Vigil: a request that may have reached the replica is retried
    # only if idempotent (HAProxy's L7 retries would otherwise re-send POSTs)
    http-request disable-l7-retry if METH_POST
    option httpchk GET /ready
    default-server check inter 100 fall 1 rise 1 observe layer7 error-limit 1 on-error mark-down
{servers}
"""
    )


def haproxy_kill_figures(log: str, victim: str, t_kill_wall: float) -> dict[str, Any]:
    """A request touched the victim if it ended there or was retried (``%rc`` > 0: the only
    failing server is the victim). In flight at the kill: accepted before it, ended after it;
    a new pick of the dead server: accepted after the kill (millisecond resolution)."""
    stop = 0.0
    dead = 0
    inflight_post = inflight_get = 0
    kill_ms = t_kill_wall * 1000
    for line in log.splitlines():
        m = HAPROXY_LOG.match(line.strip())
        if m is None:
            continue
        accept = int(m.group(1)) * 1000 + int(m.group(2))
        server, retries, method, total = m.group(3), m.group(5), m.group(6), int(m.group(7))
        if server != victim and retries.lstrip("+") == "0":
            continue
        if accept + max(total, 0) + 1 <= kill_ms:
            continue  # over before the kill
        if accept <= kill_ms - 1:
            if method == "POST":
                inflight_post += 1
            else:
                inflight_get += 1
        else:
            dead += 1
            stop = max(stop, accept - kill_ms)
    return {
        "stop_ms": stop,
        "dead_picks": dead,
        "inflight_post": inflight_post,
        "inflight_get": inflight_get,
        "unhealthy_ms": None,
        "ejected_ms": None,
    }


async def haproxy_trials(trials: int, warmup: float, after: float) -> list[dict[str, Any]]:
    assert HAPROXY is not None
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-haproxy-"))
    servers = Servers([40.0] * 3)
    out = []
    try:
        await servers.start()
        for trial in range(trials):
            await servers.ensure()
            port = free_port()
            conf, logf = tmp / "haproxy.cfg", tmp / f"log-{trial}.txt"
            haproxy_config(conf, port, servers.ports, tmp / "stats.sock")
            with logf.open("wb") as sink:
                proc = await asyncio.create_subprocess_exec(
                    HAPROXY,
                    "-db",
                    "-f",
                    str(conf),
                    stdout=sink,
                    stderr=asyncio.subprocess.DEVNULL,
                    start_new_session=True,
                )
            try:
                await wait_port(port)
                await asyncio.sleep(0.3)  # first health checks pass
                victim = trial % 3
                result, t_kill, scur = await kill_trial(
                    port,
                    servers.pid(victim),
                    warmup,
                    after,
                    lambda v=victim: haproxy_scur(tmp / "stats.sock", f"s{v}"),
                )
                t_kill_wall = t_kill + (time.time() - time.monotonic())
            finally:
                await stop_process(proc)
            figures = haproxy_kill_figures(logf.read_text(), f"s{victim}", t_kill_wall)
            # HAProxy does not log the POSTs it cuts off: count what was in flight on the victim
            # from its stats socket ~2 ms before the kill (all methods; GETs last ~1 ms)
            figures["inflight_post"] = scur
            out.append({**client_errors(result), **figures})
    finally:
        await servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --------------------------------------------------------------------------------------------
# Part 2: decision quality, live
# --------------------------------------------------------------------------------------------


async def staller(pid: int, t0: float, end: float) -> None:
    """SIGSTOP the process for STALL_LENGTH s in every STALL_PERIOD s; always SIGCONT at the end."""
    k = 0
    try:
        while (start := t0 + STALL_OFFSET + k * STALL_PERIOD) < end:
            await sleep_until(start)
            os.kill(pid, signal.SIGSTOP)
            await sleep_until(start + STALL_LENGTH)
            os.kill(pid, signal.SIGCONT)
            k += 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


async def live_policies(seconds: float) -> dict[str, dict[str, Any]]:
    from vigil.balancer import Pool, Upstream
    from vigil.balancer.proxy import Proxy
    from vigil.daemon._balancing import pool_settings, proxy_settings
    from vigil.settings import BalancerSettings

    latencies = [40.0, 40.0, 40.0, 120.0, 40.0]  # r3: 3x slower; r4: stalls
    servers = Servers(latencies)
    out: dict[str, dict[str, Any]] = {}
    try:
        await servers.start()
        for policy in POLICIES:
            b = BalancerSettings.model_validate({"policy": policy, "slow_start": 0})
            ups = [Upstream(f"r{i}", "127.0.0.1", p) for i, p in enumerate(servers.ports)]
            proxy = Proxy(Pool(ups, pool_settings(b)), settings=proxy_settings(b))
            port = await proxy.start("127.0.0.1", 0)
            stall: list[asyncio.Task[None]] = []

            async def begin(t0: float) -> None:
                stall.append(asyncio.create_task(staller(servers.pid(4), t0, t0 + seconds)))  # noqa: B023

            PROBE.clear()
            try:
                result = await run_client(port, LIVE_RATE, seconds, "post", begin)
            finally:
                for task in stall:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await proxy.stop(1.0)
            recs = result["records"]
            lat = sorted(r[3] for r in recs if r[2] == 200)
            PROBE.check()
            picks = [uid for _, uid in PROBE.picks]
            out[policy] = {
                "requests": len(recs),
                "errors": sum(1 for r in recs if r[2] != 200),
                "p50_ms": pct(lat, 0.5) * 1000,
                "p99_ms": pct(lat, 0.99) * 1000,
                "max_ms": lat[-1] * 1000 if lat else float("nan"),
                "share_slow": picks.count("r3") / max(len(picks), 1),
                "share_stalling": picks.count("r4") / max(len(picks), 1),
                "client_rate": result["achieved_rate"],
            }
    finally:
        await servers.stop()
    return out


# --------------------------------------------------------------------------------------------
# Part 3: worker processes with and without shared in-flight counts, one-slot replicas
# --------------------------------------------------------------------------------------------

SLOT_MEAN_MS = (40.0, 40.0, 40.0, 120.0, 40.0)  # r3: 3x slower; r4: stalls (SIGSTOP)
SLOT_SIGMA = 0.6  # log-normal shape of service times, as in bench/balance_sim.py
WORKER_SETUPS = (
    ("1 worker", 1, False, False),
    ("2 workers", 2, False, False),
    ("2 workers shared", 2, True, False),
    ("2 workers shared learned", 2, True, True),
)
"""(name, workers, share in-flight counts, share p2c's learned models too)."""


async def replica_main(port: int, mean_ms: float, seed: int) -> None:
    """One request at a time (FIFO queue), log-normal service time with mean ``mean_ms``."""
    rng = random.Random(seed)
    slot = asyncio.Lock()  # FIFO: waiters are woken in order
    mu = math.log(mean_ms / 1000.0) - SLOT_SIGMA**2 / 2
    body = b'{"ok": true}'
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (
        len(body),
        body,
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                async with slot:
                    await asyncio.sleep(rng.lognormvariate(mu, SLOT_SIGMA))
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True)
    async with server:
        await server.serve_forever()


class SlotReplicas(Servers):
    """One-slot replicas: this script in ``--replica`` mode."""

    async def start(self, index: int | None = None) -> None:
        for i in range(len(self.ports)) if index is None else [index]:
            self.procs[i] = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--replica",
                str(self.ports[i]),
                str(self.latencies[i]),
                str(i + 1),
                stdout=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        for i in range(len(self.ports)) if index is None else [index]:
            await wait_port(self.ports[i])


def slot_worker_proxy(ports: list[int]) -> Any:
    """A worker's proxy (picklable factory): p2c_ewma over the replicas, slow start 0."""
    from vigil.balancer import Pool, Upstream
    from vigil.balancer.proxy import Proxy
    from vigil.daemon._balancing import pool_settings, proxy_settings
    from vigil.settings import BalancerSettings

    b = BalancerSettings.model_validate({"policy": "p2c_ewma", "slow_start": 0})
    ups = [Upstream(f"r{i}", "127.0.0.1", p) for i, p in enumerate(ports)]
    return Proxy(Pool(ups, pool_settings(b)), settings=proxy_settings(b))


async def live_workers(seconds: float, utilisation: float = 0.8) -> dict[str, dict[str, Any]]:
    """p99 of each of WORKER_SETUPS in front of the same one-slot replicas, same schedule."""
    import functools

    from vigil.balancer.proxy import Workers

    capacity = sum(1000.0 / ms for ms in SLOT_MEAN_MS) - 1000.0 / SLOT_MEAN_MS[4] * (
        STALL_LENGTH / STALL_PERIOD
    )
    rate = utilisation * capacity
    replicas = SlotReplicas(list(SLOT_MEAN_MS))
    out: dict[str, dict[str, Any]] = {}
    try:
        await replicas.start()
        ids = [f"r{i}" for i in range(len(SLOT_MEAN_MS))]
        for name, count, shared, learned in WORKER_SETUPS:
            factory = functools.partial(slot_worker_proxy, replicas.ports)
            group = await asyncio.to_thread(
                functools.partial(
                    Workers.launch,
                    factory,
                    "127.0.0.1",
                    free_port(),
                    workers=count,
                    share=ids if shared else None,
                    learned=learned,
                )
            )
            stall: list[asyncio.Task[None]] = []

            async def begin(t0: float) -> None:
                stall.append(asyncio.create_task(staller(replicas.pid(4), t0, t0 + seconds)))  # noqa: B023

            try:
                result = await run_client(group.port, rate, seconds, "post-poisson", begin)
            finally:
                for task in stall:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await asyncio.to_thread(group.stop, 1.0)
            recs = result["records"]
            lat = sorted(r[3] for r in recs if r[2] == 200)
            out[name] = {
                "workers": count,
                "shared": shared,
                "learned": learned,
                "requests": len(recs),
                "errors": sum(1 for r in recs if r[2] != 200),
                "p50_ms": pct(lat, 0.5) * 1000,
                "p99_ms": pct(lat, 0.99) * 1000,
                "max_ms": lat[-1] * 1000 if lat else float("nan"),
                "client_rate": result["achieved_rate"],
            }
            await asyncio.sleep(STALL_LENGTH)  # let the replicas' queues empty
    finally:
        await replicas.stop()
    out["rate"] = {"offered": rate, "capacity": capacity}
    return out


LATENCY_COLUMNS = ("requests", "errors", "p50 ms", "p99 ms", "max ms")


def latency_cells(r: dict[str, Any]) -> list[str]:
    """The cells of :data:`LATENCY_COLUMNS` for one live setup's figures."""
    return [
        str(r["requests"]),
        str(r["errors"]),
        f"{r['p50_ms']:.1f}",
        f"{r['p99_ms']:.1f}",
        f"{r['max_ms']:.1f}",
    ]


def show_workers(live: dict[str, dict[str, Any]], seconds: float) -> None:
    rate = live["rate"]["offered"]
    table = Table(
        title=f"workers sharing in-flight counts: 5 one-slot replicas (r3 3x slower, r4 stalled "
        f"1 s in 5), p2c_ewma, {rate:.0f} POST/s (80 %), {seconds:.0f} s per setup"
    )
    for col in ("setup", *LATENCY_COLUMNS, "client req/s"):
        table.add_column(col)
    for name, _, _, _ in WORKER_SETUPS:
        r = live[name]
        table.add_row(name, *latency_cells(r), f"{r['client_rate']:.0f}")
    console.print(table)


async def workers_part(seconds: float) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Part 3: run the worker setups live and print their table; return each setup's figures
    and the comparison of them."""
    console.print(f"workers sharing in-flight counts, live: {seconds:.0f} s per setup ...")
    workers = await live_workers(seconds)
    show_workers(workers, seconds)
    return workers, workers_figures(workers)


def workers_figures(live: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shared, own = live["2 workers shared"]["p99_ms"], live["2 workers"]["p99_ms"]
    learned = live["2 workers shared learned"]["p99_ms"]
    one = live["1 worker"]["p99_ms"]
    ratio = shared / own if own > 0 else float("nan")
    console.print(
        f"2 workers: p99 sharing in-flight counts / each its own view = {ratio:.2f}; "
        f"sharing learned models too / counts only = {learned / shared:.2f}; "
        f"over 1 worker: learned {learned / one:.2f}, shared {shared / one:.2f}, "
        f"own view {own / one:.2f}"
    )
    return {
        "setups": live,
        "shared_over_unshared_p99": round(ratio, 3),
        "learned_over_shared_p99": round(learned / shared, 3),
        "learned_over_one_worker_p99": round(learned / one, 3),
        "shared_over_one_worker_p99": round(shared / one, 3),
        "unshared_over_one_worker_p99": round(own / one, 3),
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize(trials: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "stop_ms",
        "dead_picks",
        "get_errors",
        "post_errors",
        "inflight_post",
        "post_beyond_inflight",
        "unhealthy_ms",
        "ejected_ms",
        "client_rate",
        "client_lag_max_ms",
    )
    for t in trials:
        failed_inflight = t["inflight_post"] - t.get("inflight_post_retried", 0)
        t["post_beyond_inflight"] = max(0, t["post_errors"] - failed_inflight)
    out: dict[str, Any] = {"trials": len(trials)}
    for key in keys:
        values = [t[key] for t in trials if t.get(key) is not None]
        if values:
            out[f"{key}_p50"] = round(statistics.median(values), 2)
            out[f"{key}_p95"] = round(pct(values, 0.95), 2)
    out["get_errors_total"] = sum(t["get_errors"] for t in trials)
    out["post_errors_total"] = sum(t["post_errors"] for t in trials)
    out["inflight_post_total"] = sum(t["inflight_post"] for t in trials)
    for key in ("inflight_post_retried", "post_after_kill_retried"):
        out[f"{key}_total"] = sum(t.get(key, 0) for t in trials)
    out["post_beyond_inflight_total"] = sum(t["post_beyond_inflight"] for t in trials)
    out["stop_ms_max"] = round(max(t["stop_ms"] for t in trials), 2)
    out["trials_with_get_errors"] = [i for i, t in enumerate(trials) if t["get_errors"]]
    failed: dict[str, int] = {}
    for t in trials:
        for how in t.get("post_after_kill_failed", ()):
            failed[how] = failed.get(how, 0) + 1
    out["post_after_kill_failed"] = failed
    kinds: dict[str, int] = {}
    for t in trials:
        for k, v in t["error_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    out["error_kinds"] = kinds
    return out


def show_faults(setups: dict[str, dict[str, Any]]) -> None:
    table = Table(title=f"kill -9 of 1 of 3 replicas at {FAULT_RATE:.0f} req/s (GET+POST)")
    cols = (
        "setup",
        "trials",
        "GET errors",
        "POST errors",
        "POST in flight (retried)",
        "POST beyond",
        "retried after kill",
        "stop sending p50/p95/max ms",
        "picks of dead",
        "out by (ms p50)",
        "client req/s",
    )
    for col in cols:
        table.add_column(col)
    for name, s in setups.items():
        how = []
        if "unhealthy_ms_p50" in s:
            how.append(f"health {s['unhealthy_ms_p50']:.1f}")
        if "ejected_ms_p50" in s:
            how.append(f"eject {s['ejected_ms_p50']:.1f}")
        table.add_row(
            name,
            str(s["trials"]),
            str(s["get_errors_total"]),
            str(s["post_errors_total"]),
            f"{s['inflight_post_total']} ({s['inflight_post_retried_total']})",
            str(s["post_beyond_inflight_total"]),
            str(s["post_after_kill_retried_total"]),
            f"{s['stop_ms_p50']:.1f} / {s['stop_ms_p95']:.1f} / {s['stop_ms_max']:.1f}",
            f"{s['dead_picks_p50']:.0f}",
            ", ".join(how) or "-",
            f"{s['client_rate_p50']:.0f}",
        )
    console.print(table)
    for name, s in setups.items():
        if s["error_kinds"]:
            console.print(f"  {name}: client errors by kind {s['error_kinds']}")
        if s.get("post_after_kill_failed"):
            console.print(f"  {name}: POSTs sent after the kill that failed, by how the")
            console.print(f"    victim's connection ended: {s['post_after_kill_failed']}")


def show_live(live: dict[str, dict[str, Any]], seconds: float) -> None:
    table = Table(
        title=f"live decision quality: 5 replicas (r3 3x slower, r4 stalled 1 s in 5), "
        f"{LIVE_RATE:.0f} POST/s, {seconds:.0f} s per policy"
    )
    for col in ("policy", *LATENCY_COLUMNS, "share r3 (slow)", "share r4 (stall)", "client req/s"):
        table.add_column(col)
    for policy, r in live.items():
        table.add_row(
            policy,
            *latency_cells(r),
            f"{r['share_slow']:.1%}",
            f"{r['share_stalling']:.1%}",
            f"{r['client_rate']:.0f}",
        )
    console.print(table)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    install_hooks()
    trials = 2 if args.quick else args.trials
    warmup, after = (1.0, 1.2) if args.quick else (2.0, 2.0)
    seconds = 5.0 if args.quick else args.policy_seconds
    if args.part == "workers":
        workers, figures = await workers_part(seconds)
        return {
            "bench": "balance_faults",
            "part": "workers",
            "quick": args.quick,
            "vigil": {"live_workers": figures},
            "baseline": {"name": "2 workers, own view", "live_workers": workers["2 workers"]},
        }
    setups: dict[str, dict[str, Any]] = {}
    console.print(f"faults: {trials} trials per setup ...")
    setups["vigil controller"] = summarize(await controller_trials(trials, warmup, after))
    setups["vigil passive"] = summarize(await passive_trials(trials, warmup, after))
    control = "vigil passive, retry_on_reset off"
    setups[control] = summarize(await passive_trials(trials, warmup, after, retry_on_reset=False))
    baseline_name = "haproxy"
    if HAPROXY is not None:
        setups["haproxy"] = summarize(await haproxy_trials(trials, warmup, after))
    else:
        baseline_name = "vigil passive, max_retries 0"
        setups[baseline_name] = summarize(await passive_trials(trials, warmup, after, 0))
    show_faults(setups)
    if args.part == "faults":
        return {
            "bench": "balance_faults",
            "part": "faults",
            "quick": args.quick,
            "vigil": {
                "faults_controller": setups["vigil controller"],
                "faults_passive": setups["vigil passive"],
                "faults_passive_no_reset_retry": setups[control],
            },
            "baseline": {"name": baseline_name, "faults": setups[baseline_name]},
        }
    console.print(f"decision quality, live: {seconds:.0f} s per policy ...")
    live = await live_policies(seconds)
    show_live(live, seconds)
    rr, p2c = live["round_robin"]["p99_ms"], live["p2c_ewma"]["p99_ms"]
    ratio = p2c / rr if rr > 0 else float("nan")
    console.print(
        f"p2c_ewma p99 / round_robin p99 = {ratio:.2f} (target <= 0.5); no oracle live "
        "(bench/balance_sim.py has one)"
    )
    workers, shared_figures = await workers_part(seconds)
    PROBE.check()
    return {
        "bench": "balance_faults",
        "quick": args.quick,
        "vigil": {
            "faults_controller": setups["vigil controller"],
            "faults_passive": setups["vigil passive"],
            "faults_passive_no_reset_retry": setups[control],
            "live": live,
            "live_p2c_over_rr_p99": round(ratio, 3),
            "live_workers": shared_figures,
        },
        "baseline": {
            "name": baseline_name,
            "faults": setups[baseline_name],
            "live_round_robin": live["round_robin"],
            "live_workers_unshared": workers["2 workers"],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 trials, 5 s per policy")
    parser.add_argument("--trials", type=int, default=10, help="kill trials per setup")
    parser.add_argument("--policy-seconds", type=float, default=30.0, help="live run per policy")
    parser.add_argument(
        "--part",
        choices=("all", "faults", "workers"),
        default="all",
        help="faults: part 1 only; workers: part 3 only",
    )
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--replica", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import uvloop

    if args.replica:
        port, mean_ms, seed = args.replica
        uvloop.run(replica_main(int(port), float(mean_ms), int(seed)))
        return 0
    if args.client:
        port, rate, seconds, mix = args.client
        uvloop.run(client_main(int(port), float(rate), float(seconds), mix))
        return 0
    figures = uvloop.run(bench(args))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
