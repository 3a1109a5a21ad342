"""Streaming benchmark: Server-Sent Events token streams through Vigil vs directly vs nginx.

    python bench/balance_stream.py            # 5 rounds of 200 concurrent streams x 64 events
    python bench/balance_stream.py --quick    # 1 round (CI keeps the script from rotting)
    python bench/balance_stream.py --floor    # also the byte relay of bench/relay_floor.py
    python bench/balance_stream.py --pause 5  # each round a burst after 5 s without traffic
    python bench/balance_stream.py --workers 2   # 2 Vigil workers (kernel and exact balance)
                                                 # against nginx with 2 worker_processes
    python bench/balance_stream.py --python-only 2000   # Python work per relayed event
    python bench/balance_stream.py --python-only 2000 --vigil-only  # without the baseline loop

``--python-only N`` relays N events (one chunk per upstream read) through the proxy's protocols
with null transports (no sockets, no tools), against the baseline of what any relay that keeps
the framing checked must do: httptools parsing the chunk and one write. Run it under
``valgrind --tool=callgrind`` with two counts (e.g. 2000 and 6000) and take the difference of
the instruction totals for a figure that does not depend on the load; ``--vigil-only`` leaves
the baseline's loop out, so the difference is the proxy's alone (plus the null transports).

A backend process (uvloop) answers every GET with a chunked ``text/event-stream`` of 64 events,
the first at once and then one every 10 ms, like a model emitting tokens. The client (this
process, uvloop) opens 200 streams at once against (a) the backend directly, (b) Vigil (one
worker process, round robin) and (c) nginx with ``proxy_buffering off`` and upstream keep-alive.
Figures: time to first event (median and p99 over streams; Vigil minus direct, target <= 1 ms),
every event delivered, and the proxy's CPU per event from ``/proc/<pid>/task/*/schedstat``
(target <= 1.2x nginx's). Needs Debian's ``nginx``; ends with ONE JSON line.

``--workers N`` (default 1) runs Vigil with N worker processes, once per connection balance
(``--balance``: ``kernel``, ``SO_REUSEPORT``; ``exact``, one shared listening socket and a table
of counts; both by default when N > 1: targets ``vigil`` and ``vigil_exact``), and nginx with N
``worker_processes``, all in the same interleaved rounds; the figures of ``vigil`` are then the
first mode's. CPU per event counts every worker (and nginx's master and workers).

The targets' rounds are interleaved (direct, Vigil, nginx, then again), and the first-event
difference is also given as the median over rounds of Vigil's median minus direct's in the
round just before (``vigil_ttfe_added_paired_ms``): on these shared cores the load moves
between minutes by more than the difference measured. The client is a plain protocol per
stream (:class:`StreamClient`), not asyncio streams, whose CPU per burst matched the proxy's
and fell on the proxy's cores only (``bench/stream_trace.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from balance_overhead import (
    _REQUEST,
    _NullTransport,
    check_tools,
    free_port,
    null_wired,
    raise_nofile,
    start_floor,
    start_nginx,
    wait_port,
)

from vigil.balancer._upstream import Upstream
from vigil.balancer.proxy import Proxy, Workers

STREAMS = 200
EVENTS = 64
INTERVAL = 0.010


class SseBackend(asyncio.Protocol):
    """Answers each request head with a stream of events on timers (no coroutine per stream)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            self._event(0)

    def _event(self, i: int) -> None:
        if self.transport.is_closing():
            return
        event = b'data: {"token": %d, "text": " tok"}\n\n' % i
        self.transport.write(b"%x\r\n%s\r\n" % (len(event), event))
        if i + 1 < EVENTS:
            asyncio.get_running_loop().call_later(INTERVAL, self._event, i + 1)
        else:
            self.transport.write(b"0\r\n\r\n")


def run_backend(port: int, ready: multiprocessing.synchronize.Event) -> None:
    import uvloop

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(
            SseBackend, "127.0.0.1", port, backlog=4096
        )
        ready.set()
        await server.serve_forever()

    uvloop.run(serve())


def stream_proxy(port: int) -> Proxy:
    from vigil.balancer.pool import Pool, PoolSettings

    return Proxy(Pool([Upstream("sse", "127.0.0.1", port)], PoolSettings(policy="round_robin")))


_GET = b"GET /v1/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
_END = b"\r\n0\r\n\r\n"


class StreamClient:
    """One stream's client, at the protocol level: the request written as the connection is
    made (its time is ``start``), the first event's arrival stamped in ``data_received``. A
    protocol rather than ``asyncio.open_connection``: a StreamReader, a StreamWriter and a task
    woken per event cost the client about as much CPU per burst as the proxy under test, on the
    same two cores (``bench/stream_trace.py``), so a heavy client slows a proxied stream more
    than a direct one, where the client has a core of its own."""

    def __init__(self, done: asyncio.Future[tuple[float, int]]) -> None:
        self.done = done
        self.body = bytearray()
        self.start = 0.0
        self.first = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.start = time.perf_counter()
        self.transport.write(_GET)

    def data_received(self, data: bytes) -> None:
        body = self.body
        body += data
        if not self.first:  # the head, then the first event's blank line
            head = body.find(b"\r\n\r\n")
            if head >= 0 and body.find(b"\n\n", head + 4) >= 0:
                self.first = time.perf_counter()
        if body.endswith(_END):
            self.transport.close()
            if not self.done.done():
                self.done.set_result((self.first - self.start, body.count(b"data: ")))

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("stream ended before its last chunk"))


async def one_stream(port: int) -> tuple[float, int]:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[float, int]] = loop.create_future()
    await loop.create_connection(lambda: StreamClient(done), "127.0.0.1", port)  # type: ignore[arg-type, return-value]
    return await done


async def round_of_streams(port: int) -> tuple[list[float], int]:
    results = await asyncio.gather(*(one_stream(port) for _ in range(STREAMS)))
    return [r[0] for r in results], sum(r[1] for r in results)


def cpu_seconds(pids: list[int]) -> float:
    """Time on a CPU of processes (all their threads), from ``/proc/<pid>/task/*/schedstat``
    in ns: ``/proc/<pid>/stat``'s utime + stime count 10 ms ticks, about a tenth of what a
    ``--quick`` round of 12,800 events costs a proxy (the ratio moved by a tick either way)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def measure(
    targets: list[tuple[str, int, list[int]]], rounds: int, out: dict, pause: float = 0.0
) -> None:
    """``rounds`` rounds of streams per target ``(name, port, proxy pids)``, interleaved: round
    1 of each target, then round 2 of each..., so that a change of the machine's load (other
    jobs on the shared cores) falls on every target alike, not on whichever ran in that minute.
    CPU per event counts each target's own rounds (and their pauses) only."""
    import uvloop

    ttfes: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    medians: dict[str, list[float]] = {name: [] for name in ttfes}  # per round
    events = dict.fromkeys(ttfes, 0)
    cpu = dict.fromkeys(ttfes, 0.0)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for _, port, _ in targets:
            runner.run(round_of_streams(port))  # warm up
        for _ in range(rounds):
            for name, port, pids in targets:
                before = cpu_seconds(pids) if pids else 0.0
                time.sleep(pause)  # --pause: the proxy's idle upstream connections may expire
                t, n = runner.run(round_of_streams(port))
                cpu[name] += cpu_seconds(pids) - before if pids else 0.0
                ttfes[name] += t
                medians[name].append(statistics.median(t) * 1e3)
                events[name] += n
    for name, _, pids in targets:
        ttfes[name].sort()
        out[name] = r = {
            "ttfe_median_ms": statistics.median(ttfes[name]) * 1e3,
            "ttfe_p99_ms": ttfes[name][int(len(ttfes[name]) * 0.99) - 1] * 1e3,
            "events": events[name],
            "events_expected": rounds * STREAMS * EVENTS,
            "cpu_us_per_event": cpu[name] / events[name] * 1e6 if pids else None,
            "ttfe_round_medians_ms": medians[name],
        }
        cpu_text = f"{r['cpu_us_per_event']:.1f} us" if pids else "-"
        print(
            f"{name:<9} first event median {r['ttfe_median_ms']:.2f} ms"
            f" p99 {r['ttfe_p99_ms']:.2f} ms  events {r['events']}/{r['events_expected']}"
            f"  proxy CPU per event {cpu_text}",
            flush=True,
        )


_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
_EVENT = b'data: {"token": 7, "text": " tok"}\n\n'
_CHUNK = b"%x\r\n%s\r\n" % (len(_EVENT), _EVENT)


def python_only(count: int, vigil_only: bool = False) -> dict[str, float]:
    """CPU µs per relayed event: the proxy's protocols (null transports) and the baseline."""
    import uvloop
    from httptools import HttpResponseParser

    async def proxy_loop() -> float:
        proxy = stream_proxy(9)
        await proxy.start()
        state, conn, client = null_wired(proxy)
        client.data_received(_REQUEST)
        conn.data_received(_SSE_HEAD)
        start = time.process_time()
        for _ in range(count):
            conn.data_received(_CHUNK)
        spent = time.process_time() - start
        if state.active != 1 or conn.exchange is None:
            raise RuntimeError("the null-transport stream did not stay open")
        await proxy.stop(0.1)
        return spent

    class Sink:  # httptools calls only the callbacks that exist
        def on_body(self, body: bytes) -> None:
            pass

    if vigil_only:
        return {"vigil_us": uvloop.run(proxy_loop()) / count * 1e6, "parse_and_write_us": 0.0}
    parser, sink = HttpResponseParser(Sink()), _NullTransport()
    parser.feed_data(_SSE_HEAD)
    start = time.process_time()
    for _ in range(count):
        parser.feed_data(_CHUNK)
        sink.write(_CHUNK)
    baseline = time.process_time() - start
    spent = uvloop.run(proxy_loop())
    return {"vigil_us": spent / count * 1e6, "parse_and_write_us": baseline / count * 1e6}


def proxy_figures(results: dict, name: str) -> dict[str, float]:
    """The first event of target ``name`` over direct (medians of all streams, and paired: the
    median over rounds of its round median minus direct's of the same round), over nginx, and
    its CPU per event over nginx's."""
    mine, direct, nginx = results[name], results["direct"], results["nginx"]
    return {
        "ttfe_added_ms": mine["ttfe_median_ms"] - direct["ttfe_median_ms"],
        "ttfe_added_paired_ms": statistics.median(
            v - d
            for v, d in zip(
                mine["ttfe_round_medians_ms"], direct["ttfe_round_medians_ms"], strict=True
            )
        ),
        "ttfe_vs_nginx_ms": mine["ttfe_median_ms"] - nginx["ttfe_median_ms"],
        "cpu_per_event_vs_nginx": (mine["cpu_us_per_event"] or 0)
        / (nginx["cpu_us_per_event"] or 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round instead of 5")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also a pass-through byte relay on uvloop (no HTTP; a new upstream connection each)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        metavar="S",
        help="wait S seconds before each round (5: a burst after the 4 s upstream idle timeout)",
    )
    parser.add_argument(
        "--python-only",
        type=int,
        metavar="N",
        help="only the proxy's Python work for N relayed events, without sockets (see above)",
    )
    parser.add_argument(
        "--vigil-only",
        action="store_true",
        help="with --python-only: the proxy's loop alone (callgrind figures without the baseline)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="Vigil worker processes and nginx worker_processes (default 1)",
    )
    parser.add_argument(
        "--balance",
        choices=("kernel", "exact", "both"),
        default="both",
        help="with --workers > 1: Vigil's connection balance (default: both, two targets)",
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error(f"--workers: must be >= 1 (got {args.workers})")
    if args.python_only:
        r = python_only(args.python_only, args.vigil_only)
        print(f"{'':<34} {'CPU per event':>14}")
        print(f"{'vigil protocols (no I/O)':<34} {r['vigil_us']:>11.2f} us")
        print(f"{'baseline: httptools + one write':<34} {r['parse_and_write_us']:>11.2f} us")
        print(
            json.dumps(
                {
                    "bench": "balance_stream_python",
                    "events": args.python_only,
                    "results": r,
                    "baseline": None if args.vigil_only else "httptools_parse_and_null_write",
                    "ratio": r["vigil_us"] / r["parse_and_write_us"]
                    if r["parse_and_write_us"]
                    else None,
                }
            )
        )
        return 0
    check_tools(["nginx"])
    raise_nofile()
    rounds = 1 if args.quick else 5
    workers = args.workers
    balances = (
        ["kernel"]
        if workers == 1
        else (["kernel", "exact"] if args.balance == "both" else [args.balance])
    )
    print(
        f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, {rounds} round(s), "
        f"{workers} worker(s){' (' + ', '.join(balances) + ')' if workers > 1 else ''}",
        flush=True,
    )
    ctx = multiprocessing.get_context("spawn")
    backend_port = free_port()
    ready = ctx.Event()
    backend = ctx.Process(target=run_backend, args=(backend_port, ready), daemon=True)
    backend.start()
    ready.wait(20)
    results: dict[str, dict[str, float | int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmpdir:
        nginx_port = free_port()
        nginx = start_nginx(
            Path(tmpdir),
            f"""upstream sse {{ server 127.0.0.1:{backend_port}; keepalive 256; }}
    server {{ listen 127.0.0.1:{nginx_port} backlog=4096; location / {{
        proxy_pass http://sse; proxy_http_version 1.1; proxy_set_header Connection "";
        proxy_buffering off; }} }}""",
            workers=workers,
        )
        groups: list[Workers] = []
        relays: list[multiprocessing.Process] = []
        try:
            wait_port(nginx_port)
            targets = [("direct", backend_port, [])]
            for balance in balances:
                group = Workers.launch(
                    functools.partial(stream_proxy, backend_port), workers=workers, balance=balance
                )
                groups.append(group)
                name = "vigil" if balance == balances[0] else f"vigil_{balance}"
                targets.append((name, group.port, group.pids))
            targets.append(("nginx", nginx_port, [nginx.pid, *children(nginx.pid)]))
            for style in ("protocol", "buffered") if args.floor else ():
                relay, relay_port = start_floor(style, [backend_port])
                relays.append(relay)
                assert relay.pid is not None
                targets.append((f"floor_{style[:3]}", relay_port, [relay.pid]))
            measure(targets, rounds, results, args.pause)
        finally:
            for relay in relays:
                relay.kill()
                relay.join(10)
            for group in groups:
                group.stop(1.0)
            nginx.terminate()
            nginx.wait(10)
            backend.terminate()
    added = float(results["vigil"]["ttfe_median_ms"] or 0) - float(
        results["direct"]["ttfe_median_ms"] or 0
    )
    # the baseline proxy's own cost in the same run: on a shared machine the burst's first
    # event waits for CPU, for nginx as for Vigil, so this is the comparison noise spares
    over_nginx = float(results["vigil"]["ttfe_median_ms"] or 0) - float(
        results["nginx"]["ttfe_median_ms"] or 0
    )
    # per round, Vigil's median minus direct's in the round before it (a minute's load shared)
    paired = statistics.median(
        v - d
        for v, d in zip(
            results["vigil"]["ttfe_round_medians_ms"],  # type: ignore[arg-type]
            results["direct"]["ttfe_round_medians_ms"],  # type: ignore[arg-type]
            strict=True,
        )
    )
    cpu_ratio = float(results["vigil"]["cpu_us_per_event"] or 0) / float(
        results["nginx"]["cpu_us_per_event"] or 1
    )
    complete = all(r["events"] == r["events_expected"] for r in results.values())
    floors = {
        name: {
            "ttfe_added_ms": float(r["ttfe_median_ms"] or 0)
            - float(results["direct"]["ttfe_median_ms"] or 0),
            "cpu_per_event_vs_nginx": float(r["cpu_us_per_event"] or 0)
            / float(results["nginx"]["cpu_us_per_event"] or 1),
        }
        for name, r in results.items()
        if name.startswith("floor")
    }
    for name, f in floors.items():
        print(
            f"{name}: first event +{f['ttfe_added_ms']:.2f} ms vs direct, "
            f"CPU per event {f['cpu_per_event_vs_nginx']:.2f}x nginx's"
        )
    # every proxy (with --workers, each balance mode; nginx itself), as "vigil" is below
    proxies = {
        name: proxy_figures(results, name)
        for name in results
        if name == "nginx" or name.startswith("vigil")
    }
    for name, f in proxies.items():
        print(
            f"{name}: first event paired {f['ttfe_added_paired_ms']:+.2f} ms vs direct, "
            f"{f['ttfe_vs_nginx_ms']:+.2f} ms vs nginx, "
            f"CPU per event {f['cpu_per_event_vs_nginx']:.2f}x nginx's"
        )
    print(
        f"vigil: first event {added:+.2f} ms vs direct (target <= 1 ms; median of the rounds'"
        f" differences {paired:+.2f} ms; "
        f"{over_nginx:+.2f} ms vs nginx), "
        f"CPU per event {cpu_ratio:.2f}x nginx's (target <= 1.2x), "
        f"every event delivered: {complete}"
    )
    print(
        json.dumps(
            {
                "bench": "balance_stream",
                "cpus": os.cpu_count(),
                "streams": STREAMS,
                "events_per_stream": EVENTS,
                "rounds": rounds,
                "pause_s": args.pause,
                "workers": workers,
                "balances": balances,
                "results": results,
                "baseline": "nginx proxy_buffering off",
                "vigil_ttfe_added_ms": added,
                "vigil_ttfe_added_paired_ms": paired,
                "vigil_ttfe_vs_nginx_ms": over_nginx,
                "vigil_cpu_per_event_vs_nginx": cpu_ratio,
                "floors": floors,
                "proxies": proxies,
                "targets_met": {
                    "ttfe_added_le_1ms": added <= 1.0,
                    "cpu_per_event_le_1.2x_nginx": cpu_ratio <= 1.2,
                    "all_events_delivered": complete,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
