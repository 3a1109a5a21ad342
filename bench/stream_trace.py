"""Where the first event of an SSE stream goes: per-stream timestamps, through Vigil and direct.

    python bench/stream_trace.py             # 3 traced rounds of 200 streams per target
    python bench/stream_trace.py --quick     # 1 round
    python bench/stream_trace.py --untraced  # also Vigil without the trace hooks (their cost)
    python bench/stream_trace.py --workers 2 # two traced proxy processes on one port (SO_REUSEPORT)

The streams of ``bench/balance_stream.py`` (same backend, same client, 200 at once), with every
process stamping ``time.perf_counter()`` (CLOCK_MONOTONIC: one clock for all processes) at the
steps of each stream's first event:

- the client (this process, balance_stream.py's :class:`StreamClient`): connect begun, connect
  done and request written (``t=0``: where balance_stream.py's "first event" time starts),
  first event read (``--streams-client``: the asyncio-streams client the bench had before);
- Vigil (a worker process on a ``uvloop.Loop`` subclass that wraps the protocols the loop is
  handed: the compiled data plane itself is untouched): (a) the accept, the request read,
  (b) an upstream connect begun / made (only when no pooled connection was free), (c) the
  request written upstream, (d) the upstream's first byte read, (e) the first event written to
  the client;
- the backend: the request read, and the first event written (its write returns).

Also, traced, the connections the proxy's ``Listener`` took at each wake-up (the callback it
gives the loop's ``add_reader`` wrapped, in the proxy process only): per round, the wake-ups
that accepted and the largest, i.e. how much of a burst is accepted before any of its requests
can be read (branch first5).

``--workers N`` runs N traced proxy processes on one port with ``SO_REUSEPORT`` (the kernel
spreads the connections, as ``balance_stream.py --workers N --balance kernel`` does); the stamps
of all of them are joined (a stream's port names it in whichever process accepted it).

Streams are joined by port (the client's local port is the proxy's and, direct, the backend's
peer port; the proxy's upstream local port is the backend's peer port). Prints, per target,
the median over streams of each step, ms after the stream's connect, and the step-to-step
gaps; then one JSON line. The wrappers cost a Python call per read and write: ``--untraced``
runs Vigil plain too, for the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from balance_overhead import raise_nofile
from balance_stream import STREAMS, SseBackend, StreamClient, stream_proxy

from vigil.backends import free_port

now = time.perf_counter


def _dump_on_usr1(loop: asyncio.AbstractEventLoop, records: list[Any], path: Path) -> None:
    """SIGUSR1: write ``records`` (JSON) to ``path`` and forget them."""

    def dump() -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(records))
        tmp.rename(path)
        records.clear()

    loop.add_signal_handler(signal.SIGUSR1, dump)


# -- the backend -------------------------------------------------------------------------------
BACKEND: list[tuple[int, float, float]] = []  # (peer port, request read, first event written)


class TracedBackend(SseBackend):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.port = int(transport.get_extra_info("peername")[1])

    def data_received(self, data: bytes) -> None:
        t = now()
        super().data_received(data)
        BACKEND.append((self.port, t, now()))


def run_backend(port: int, dump: str, ready: Any) -> None:
    import uvloop

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        _dump_on_usr1(loop, BACKEND, Path(dump))
        server = await loop.create_server(TracedBackend, "127.0.0.1", port, backlog=4096)
        ready.set()
        await server.serve_forever()

    uvloop.run(serve())


# -- the proxy ---------------------------------------------------------------------------------
PROXY: list[dict[str, float | int]] = []  # one record per accepted client connection
BY_CLIENT: dict[int, dict[str, float | int]] = {}  # id(ClientConnection) -> its record


class _Transport:
    """A transport that stamps ``key`` in a record at the first write holding an event."""

    def __init__(self, real: Any, stamp: Any) -> None:
        self.real = real
        self.stamp = stamp

    def write(self, data: bytes) -> None:
        self.stamp(data)
        self.real.write(data)

    def writelines(self, parts: list[bytes]) -> None:
        self.stamp(b"".join(parts))
        self.real.writelines(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _Forwarding:
    """The protocol calls a traced protocol passes to ``inner`` (the loop's own) unchanged."""

    inner: Any

    def eof_received(self) -> bool:
        return bool(self.inner.eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class TracedClient(_Forwarding):
    def __init__(self, inner: Any, rec: dict[str, float | int]) -> None:
        self.inner = inner
        self.rec = rec

    def _stamp(self, data: bytes) -> None:
        if "event_out" not in self.rec and b"data: " in data:
            self.rec["event_out"] = now()

    def connection_made(self, transport: Any) -> None:
        self.inner.connection_made(_Transport(transport, self._stamp))

    def data_received(self, data: bytes) -> None:
        self.rec.setdefault("read", now())
        self.inner.data_received(data)


class TracedUpstream(_Forwarding):
    def __init__(self, inner: Any, dialed: float) -> None:
        self.inner = inner
        self.dialed = dialed
        self.made = 0.0
        self.port = 0
        self.requests = 0

    def _record(self) -> dict[str, float | int] | None:
        ex = self.inner.exchange
        return None if ex is None else BY_CLIENT.get(id(ex.client))

    def _stamp(self, data: bytes) -> None:  # a request written upstream
        rec = self._record()
        if rec is not None and "up_write" not in rec:
            rec["up_write"] = now()
            rec["up_port"] = self.port
            if self.requests == 0 and self.dialed > rec["accept"]:  # opened for this burst
                rec["dial"], rec["dialed"] = self.dialed, self.made
        self.requests += 1

    def connection_made(self, transport: Any) -> None:
        self.made = now()
        self.port = int(transport.get_extra_info("sockname")[1])
        self.inner.connection_made(_Transport(transport, self._stamp))

    def data_received(self, data: bytes) -> None:
        rec = self._record()
        if rec is not None:
            rec.setdefault("up_first", now())
        self.inner.data_received(data)


def traced_loop() -> asyncio.AbstractEventLoop:
    import uvloop

    class TracingLoop(uvloop.Loop):  # type: ignore[misc]
        async def connect_accepted_socket(self, factory: Any, sock: Any, **kw: Any) -> Any:
            rec: dict[str, float | int] = {"accept": now(), "port": sock.getpeername()[1]}
            PROXY.append(rec)

            def make() -> TracedClient:
                inner = factory()
                BY_CLIENT[id(inner)] = rec
                return TracedClient(inner, rec)

            return await super().connect_accepted_socket(make, sock, **kw)

        def add_reader(self, fd: Any, callback: Any, *args: Any) -> Any:
            return super().add_reader(fd, _count_wakeups(callback), *args)

        async def create_connection(self, factory: Any, *args: Any, **kw: Any) -> Any:
            dialed = now()
            return await super().create_connection(
                lambda: TracedUpstream(factory(), dialed), *args, **kw
            )

    return TracingLoop()  # type: ignore[no-any-return]


def _count_wakeups(callback: Any) -> Any:
    """``callback`` (a reader's), wrapped to record ``{"wakeup": n}`` in :data:`PROXY` for each
    wake-up of the proxy's ``Listener`` that accepted n > 0 connections (this process only:
    the bench's proxy). The loop's ``add_reader`` is wrapped, not the class: the listener is
    compiled (branch first22), and a compiled class's methods cannot be replaced."""
    from vigil.balancer._proxy_accept import Listener

    listener = getattr(callback, "__self__", None)
    if not isinstance(listener, Listener):
        return callback

    def counted(*args: Any) -> None:
        before = listener.accepted
        callback(*args)
        if listener.accepted > before:
            PROXY.append({"wakeup": listener.accepted - before})

    return counted


def run_proxy(
    backend_port: int, port: int, dump: str, traced: bool, ready: Any, reuse: bool = False
) -> None:
    import uvloop

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        _dump_on_usr1(loop, PROXY, Path(dump))
        proxy = stream_proxy(backend_port)
        await proxy.start("127.0.0.1", port, reuse_port=reuse)
        try:  # as a worker process does (Workers.launch), where the build has it
            from vigil.balancer._proxy_workers import settle_gc  # type: ignore[attr-defined]
        except ImportError:
            pass
        else:
            settle_gc()
        ready.set()
        await asyncio.Event().wait()

    with asyncio.Runner(loop_factory=traced_loop if traced else uvloop.new_event_loop) as r:
        r.run(serve())


# -- the client --------------------------------------------------------------------------------
class TracedStreamClient(StreamClient):
    """The bench's client, noting its port and calling ``at_last`` at the round's last first
    event (``firsts``: the round's first-event times so far)."""

    def __init__(self, done: Any, firsts: list[float], at_last: Any) -> None:
        super().__init__(done)
        self.firsts, self.at_last = firsts, at_last

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.port = int(transport.get_extra_info("sockname")[1])
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        had = self.first
        super().data_received(data)
        if self.first and not had:
            self.firsts.append(self.first)
            if len(self.firsts) == STREAMS:
                self.at_last()


async def one_stream(port: int, firsts: list[float], at_last: Any) -> dict[str, float | int]:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    begun = now()
    _, client = await loop.create_connection(
        lambda: TracedStreamClient(done, firsts, at_last), "127.0.0.1", port
    )
    await done
    return {"port": client.port, "begun": begun, "start": client.start, "first": client.first}


async def one_stream_asyncio(
    port: int, firsts: list[float], at_last: Any
) -> dict[str, float | int]:
    """``--streams-client``: the client balance_stream.py had before (asyncio streams)."""
    begun = now()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = now()
    writer.write(b"GET /v1/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    await reader.readuntil(b"\n\n")
    first = now()
    firsts.append(first)
    if len(firsts) == STREAMS:
        at_last()
    await reader.readuntil(b"\r\n0\r\n\r\n")
    local = writer.get_extra_info("sockname")[1]
    writer.close()
    return {"port": local, "begun": begun, "start": start, "first": first}


CLIENT = [one_stream]


async def one_round(port: int, at_last: Any = None) -> list[dict[str, float | int]]:
    """The streams' stamps; ``at_last()`` is called when the last first event is read."""
    firsts: list[float] = []
    at_last = at_last or (lambda: None)
    return list(await asyncio.gather(*(CLIENT[0](port, firsts, at_last) for _ in range(STREAMS))))


def schedstat(pid: int) -> tuple[float, float]:
    """ms on a CPU and ms runnable but waiting for one, of process ``pid`` (all its threads)."""
    run = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "schedstat").read_text().split()
        run, wait = run + int(fields[0]), wait + int(fields[1])
    return run / 1e6, wait / 1e6


def collect(pid: int, path: Path) -> Any:
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(500):
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.01)
    raise RuntimeError(f"process {pid} wrote no trace to {path}")


STEPS = [  # (name, where the time is: a key of the joined stream record)
    ("client: connect begun", "begun"),
    ("proxy: accepted (a)", "accept"),
    ("proxy: request read", "read"),
    ("proxy: upstream connect begun (b)", "dial"),
    ("proxy: upstream connect made (b)", "dialed"),
    ("proxy: request written upstream (c)", "up_write"),
    ("backend: request read", "be_read"),
    ("backend: first event written", "be_wrote"),
    ("proxy: upstream first byte read (d)", "up_first"),
    ("proxy: first event written (e)", "event_out"),
    ("client: first event read", "first"),
]


def join(
    streams: list[dict[str, float | int]], proxy: list[Any], backend: list[Any], direct: bool
) -> list[dict[str, float | int]]:
    """Each stream's steps in ms after its connect completed (``start``)."""
    by_port_proxy: dict[int, Any] = {}
    for rec in proxy:
        if "port" in rec:  # not a wake-up's count
            by_port_proxy[int(rec["port"])] = rec
    by_port_backend: dict[int, Any] = {}
    for port, read, wrote in backend:
        by_port_backend.setdefault(port, []).append((read, wrote))
    out = []
    round_begun = min(float(s["begun"]) for s in streams)
    for s in streams:
        row: dict[str, float | int] = dict(s)
        up_port = s["port"]
        if not direct:
            rec = by_port_proxy.get(int(s["port"]))
            if rec is None:
                continue
            row.update({k: v for k, v in rec.items() if k not in ("port",)})
            up_port = rec.get("up_port", -1)
        for read, wrote in by_port_backend.get(int(up_port), ()):
            if read >= s["begun"] and read <= s["first"]:
                row["be_read"], row["be_wrote"] = read, wrote
        t0 = float(s["start"])
        joined = {k: (float(v) - t0) * 1e3 for k, v in row.items() if k not in ("port", "up_port")}
        joined.update(
            {
                "@" + k: (float(v) - round_begun) * 1e3
                for k, v in row.items()
                if k not in ("port", "up_port")
            }
        )
        out.append(joined)
    return out


def summarize(name: str, rows: list[dict[str, float]]) -> dict[str, Any]:
    print(f"\n{name}: {len(rows)} streams joined; ms after the stream's connect completed")
    print(
        f"  {'step':<38} {'streams':>7} {'median':>8} {'p10':>8} {'p90':>8} {'gap':>8}"
        f"   {'in the round: first':>19} {'median':>7} {'last':>7}"
    )
    result: dict[str, Any] = {}
    previous = None
    for label, key in STEPS:
        values = sorted(r[key] for r in rows if key in r)
        if not values:
            continue
        med = statistics.median(values)
        p10, p90 = values[len(values) // 10], values[len(values) * 9 // 10]
        gap = f"{med - previous:+8.2f}" if previous is not None else " " * 8
        when = sorted(r["@" + key] for r in rows if key in r)
        print(
            f"  {label:<38} {len(values):>7} {med:>8.2f} {p10:>8.2f} {p90:>8.2f} {gap}"
            f"   {when[0]:>19.2f} {statistics.median(when):>7.2f} {when[-1]:>7.2f}"
        )
        result[key] = {"n": len(values), "median_ms": med, "p10_ms": p10, "p90_ms": p90}
        result["@" + key] = {"first_ms": when[0], "median_ms": statistics.median(when)}
        previous = med
    return result


STEPS.insert(1, ("client: connect done (t=0)", "start"))


def _stamp_sched(into: dict[str, tuple[float, float]], pids: dict[str, int]) -> None:
    into.update({k: schedstat(p) for k, p in pids.items()})


def trace_rounds(
    runner: asyncio.Runner,
    port: int,
    rounds: int,
    pids: dict[str, int],
    dumps: dict[str, Path],
    direct: bool,
) -> tuple[list[dict[str, float]], dict[str, list[float]], list[list[int]]]:
    """``rounds`` traced rounds after a warm-up: the joined streams, per process the ms on a CPU
    and runnable but waiting, from each round's start to its last first event, and per round
    the connections accepted at each of the proxy's wake-ups (traced only)."""
    runner.run(one_round(port))  # warm up (the proxy's pool fills)
    rows: list[dict[str, float]] = []
    sched = {k: [0.0, 0.0] for k in pids}
    wakeups: list[list[int]] = []
    for _ in range(rounds):
        for k, path in dumps.items():
            collect(pids[k], path)  # forget the warm-up's (or the last round's) stamps
        before = {k: schedstat(p) for k, p in pids.items()}
        burst: dict[str, tuple[float, float]] = {}
        stamp = functools.partial(_stamp_sched, burst, pids)
        streams = runner.run(one_round(port, stamp))
        for k in pids:
            sched[k][0] += burst[k][0] - before[k][0]
            sched[k][1] += burst[k][1] - before[k][1]
        stamps = {k: collect(pids[k], path) for k, path in dumps.items()}
        proxy = [r for k, recs in stamps.items() if k.startswith("proxy") for r in recs]
        rows += join(streams, proxy, stamps["backend"], direct)
        wakeups.append([int(r["wakeup"]) for r in proxy if "wakeup" in r])
    return rows, sched, wakeups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 traced round instead of 3")
    parser.add_argument("--untraced", action="store_true", help="also Vigil without hooks")
    parser.add_argument(
        "--workers", type=int, default=1, help="proxy processes on one port (SO_REUSEPORT)"
    )
    parser.add_argument(
        "--streams-client",
        action="store_true",
        help="the client on asyncio streams (balance_stream.py's before branch sse2)",
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error(f"--workers: must be >= 1 (got {args.workers})")
    if args.streams_client:
        CLIENT[0] = one_stream_asyncio
    raise_nofile()
    rounds = 1 if args.quick else 3
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, {rounds} round(s)", flush=True)
    import uvloop

    ctx = multiprocessing.get_context("spawn")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-trace-") as tmp:
        be_dump, px_dump = Path(tmp) / "backend.json", Path(tmp) / "proxy.json"
        backend_port, ready = free_port(), ctx.Event()
        backend = ctx.Process(target=run_backend, args=(backend_port, str(be_dump), ready))
        backend.start()
        ready.wait(20)
        targets = [("direct", False), ("vigil", True)] + [("untraced", False)] * args.untraced
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                for name, traced in targets:
                    pids = {"client": os.getpid(), "backend": backend.pid or 0}
                    dumps = {"backend": be_dump}
                    proxies: list[Any] = []
                    port = backend_port
                    if name != "direct":
                        port = free_port()
                        for i in range(args.workers):
                            ready = ctx.Event()
                            key = "proxy" if i == 0 else f"proxy{i + 1}"
                            dump = px_dump.with_name(f"{key}.json")
                            proxy = ctx.Process(
                                target=run_proxy,
                                args=(backend_port, port, str(dump), traced, ready, True),
                            )
                            proxy.start()
                            ready.wait(20)
                            proxies.append(proxy)
                            pids[key] = proxy.pid or 0
                            if traced:
                                dumps[key] = dump
                    try:
                        rows, sched, wakeups = trace_rounds(
                            runner, port, rounds, pids, dumps, not traced
                        )
                    finally:
                        for proxy in proxies:
                            proxy.terminate()
                            proxy.join(10)
                    results[name] = summarize(name, rows)
                    results[name]["sched_ms_per_round"] = {
                        k: {"cpu": v[0] / rounds, "runqueue": v[1] / rounds}
                        for k, v in sched.items()
                    }
                    print(
                        "  per round until its last first event, ms on a CPU / runnable waiting: "
                        + ", ".join(
                            f"{k} {v[0] / rounds:.1f} / {v[1] / rounds:.1f}"
                            for k, v in sched.items()
                        )
                    )
                    if traced:
                        results[name]["accepts_per_wakeup"] = wakeups
                        print(
                            "  the proxy's wake-ups that accepted, per round (how many, the "
                            "largest): "
                            + ", ".join(f"{len(w)} / {max(w, default=0)}" for w in wakeups)
                        )
        finally:
            backend.terminate()
            backend.join(10)
    added = results["vigil"]["first"]["median_ms"] - results["direct"]["first"]["median_ms"]
    print(f"\nvigil (traced) first event +{added:.2f} ms vs direct (median of streams)")
    print(json.dumps({"bench": "stream_trace", "rounds": rounds, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
