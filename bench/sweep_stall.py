"""How long one client-timeout sweep holds the proxy's event loop, by idle connections.

    python bench/sweep_stall.py            # N = 1,000 / 10,000 / 18,000 idle client connections
    python bench/sweep_stall.py --quick    # N = 1,000 / 5,000 (CI keeps it from rotting)

A real :class:`vigil.balancer.proxy.Proxy` (uvloop when installed) listens on loopback; a
client process (this script, ``--clients PORT N``) opens N TCP connections to it and leaves
them idle (keep-alive clients between requests). Once the proxy holds all N, its sweep
(``ProxyState._sweep``, run every ``client_timeout / 4``, at most 1 s) is called directly
``REPEAT`` times and timed: the loop does nothing else while it runs, so its time is the
stall. **Baseline**, in the same run over the same N connections: the bare visit (a ``for``
over a copy of the set, no call), the floor of any design that looks at every connection.

The fd limit: the proxy process needs N + a few descriptors and the client process N; the hard
``RLIMIT_NOFILE`` of this machine is 20,000 (not raisable in the container), so N stops at
18,000; 50,000 is extrapolated from the slope (the sweep is linear in N) and said so.
Ends with one JSON line of the figures and the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

REPEAT = 21


def _raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def clients(port: int, n: int) -> None:
    """The client process: N idle connections, kept until stdin closes."""
    _raise_fd_limit()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()
    for s in socks:
        s.close()


async def measure(n: int) -> dict[str, float]:
    from vigil.balancer._upstream import Upstream
    from vigil.balancer.pool import Pool
    from vigil.balancer.proxy import Proxy, ProxySettings

    router = Pool([Upstream("a", "127.0.0.1", 9)])
    proxy = Proxy(router, settings=ProxySettings(client_timeout=3600.0))
    port = await proxy.start("127.0.0.1", 0)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--clients",
        str(port),
        str(n),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        line = await child.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"the client process failed to open {n} connections")
        state = proxy.state
        for _ in range(1200):  # the proxy accepts them all (a minute at most)
            if len(state.clients) >= n:
                break
            await asyncio.sleep(0.05)
        else:
            raise SystemExit(f"the proxy accepted {len(state.clients)} of {n} connections")
        sweeps, visits = [], []
        for _ in range(REPEAT):
            if state._sweeper is not None:
                state._sweeper.cancel()
                state._sweeper = None
            t0 = time.perf_counter()
            state._sweep()
            t1 = time.perf_counter()
            for _c in list(state.clients):
                pass
            t2 = time.perf_counter()
            sweeps.append(t1 - t0)
            visits.append(t2 - t1)
            await asyncio.sleep(0)
        return {
            "n": n,
            "sweep_ms": statistics.median(sweeps) * 1e3,
            "sweep_max_ms": max(sweeps) * 1e3,
            "visit_ms": statistics.median(visits) * 1e3,
        }
    finally:
        if child.stdin is not None:
            child.stdin.close()
        await child.wait()
        await proxy.stop(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", nargs=2, type=int, metavar=("PORT", "N"))
    args = parser.parse_args()
    if args.clients:
        clients(*args.clients)
        return
    hard = _raise_fd_limit()
    counts = [1000, 5000] if args.quick else [1000, 10_000, 18_000]
    counts = [n for n in counts if n + 100 <= hard]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    rows = [run(measure(n)) for n in counts]
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"load {' '.join(load)}; fd limit {hard}; median of {REPEAT} sweeps")
    print(f"{'N':>7} {'sweep ms':>9} {'max ms':>8} {'bare visit ms':>14} {'ratio':>6}")
    for r in rows:
        ratio = r["sweep_ms"] / r["visit_ms"] if r["visit_ms"] else float("nan")
        print(
            f"{r['n']:>7} {r['sweep_ms']:>9.3f} {r['sweep_max_ms']:>8.3f} "
            f"{r['visit_ms']:>14.3f} {ratio:>6.1f}"
        )
    last = rows[-1]
    per_conn_us = last["sweep_ms"] * 1e3 / last["n"]
    at_50k = per_conn_us * 50
    print(f"per connection {per_conn_us:.3f} us; at 50,000 (extrapolated) {at_50k:.2f} ms")
    print(
        json.dumps(
            {
                "bench": "sweep_stall",
                "load": load,
                "rows": rows,
                "baseline": "bare visit of the same connections (visit_ms)",
                "extrapolated_50k_ms": at_50k,
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
