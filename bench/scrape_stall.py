"""How long scraping one big exporter holds a real controller's event loop.

    python bench/scrape_stall.py            # N = 20,000 / 100,000 exposition lines, 3 runs each
    python bench/scrape_stall.py --quick    # N = 20,000, one run (CI keeps it from rotting)

A real :class:`vigil.daemon.Controller` (SQLite store, API on a socket) runs in a worker
process with one ``metrics.scrape`` target: an exporter (a thread of the worker, stdlib HTTP
server) answering N lines of text exposition (100 metric names x N/100 label sets, ~50 bytes a
line: 5 MB at N = 100,000, a big kube-state-metrics or a /federate). A 10 ms asyncio task on the
controller's loop records the longest gap between two of its ticks, and their p99, over three
scrape rounds (that gap is how long heartbeats, probes and the API waited); also shown: the
mean time of a round and the samples stored per round.

**Baseline**: the code before the fix (commit :data:`BASELINE`, main before this branch: the
body parsed and relabelled on the loop; ``--baseline REV`` for another), exported with ``git
archive`` and run from a worker process in the same go, interleaved; medians of ``--repeat``
runs. Ends with one JSON line.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import LoopGaps, gap_figures, loop_gap_main, running_controller

BASELINE = "4a5592648fad274953a775867528399e50f873af"
"""main before the review9 branch: scrape bodies parsed on the controller's event loop."""
ADMIN_TOKEN = "bench-admin-token-0123456789"
ROUNDS = 3


def exposition(n: int) -> bytes:
    lines = (
        f'bench_metric_{i % 100}{{instance="host-{i // 100 % 1000}",slot="{i // 100_000}"}} '
        f"{i * 1.5}\n"
        for i in range(n)
    )
    return "".join(lines).encode()


def serve(body: bytes) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def count_rounds(source: Any) -> list[int]:
    """A counter of the rounds ``source`` (a SourceLoop) has finished (its ``rounds`` counts
    those started)."""
    done = [0]
    once = source.once

    async def counted(client: Any) -> None:
        await once(client)
        done[0] += 1

    source.once = counted
    return done


async def rounds(done: list[int], n: int) -> None:
    """Until ``n`` rounds are finished."""
    while True:
        if done[0] >= n:
            return
        await asyncio.sleep(0.05)


async def measure(n: int, tmp: Path) -> dict[str, Any]:
    server, port = serve(exposition(n))
    token = {"name": "root", "role": "admin", "token": ADMIN_TOKEN}
    target = {
        "name": "big",
        "url": f"http://127.0.0.1:{port}/metrics",
        "interval": 0.5,
        "timeout": 120,
    }
    metrics = {"scrape": [target], "max_series": 2 * n + 10, "max_series_per_metric": n}
    try:
        async with running_controller(tmp, token, metrics=metrics) as controller:
            [source] = controller.sources
            done = count_rounds(source)
            loop = LoopGaps()
            try:
                await rounds(done, 1)  # the first round (the series made) is not measured
                first, before = done[0], source.stored
                loop.measuring = True
                started = time.perf_counter()
                await rounds(done, first + ROUNDS)
                took = time.perf_counter() - started
                loop.measuring = False
                stored = source.stored - before
            finally:
                gaps = loop.stop()
            failing = source.failing
    finally:
        server.shutdown()
    if failing is not None:
        raise SystemExit(f"bench/scrape_stall.py: the source is failing: {failing}")
    return {
        **gap_figures(gaps),
        "round_s": round(took / ROUNDS, 3),
        "stored_per_round": round(stored / (done[0] - first)),
    }


KEYS = ("max_gap_ms", "p99_gap_ms", "round_s", "stored_per_round")


def main() -> None:
    loop_gap_main(
        __file__,
        __doc__,
        BASELINE,
        ([20_000], [20_000, 100_000]),
        KEYS,
        "lines",
        measure,
        name="scrape_stall",
        title=f"scraping an exporter of N lines, {ROUNDS} rounds",
        columns=("N", "code", "max loop gap ms", "p99 gap ms", "round s", "stored per round"),
    )


if __name__ == "__main__":
    main()
