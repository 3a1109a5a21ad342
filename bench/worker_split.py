"""How a multi-process proxy's workers share a wrk run: connections held and requests answered
per worker, read from the workers themselves. Used by ``balance_overhead.py``.

Each worker's proxy is built by :func:`counted` (a picklable factory wrapping the bench's own):
on SIGUSR1 it writes ``{"clients": open client connections, "requests": answers so far}`` to
``<outdir>/<pid>.json``. :func:`snapshot` asks every worker and reads the files back. A worker's
request count is the sum of its per-replica answer counters (``ProxyMetrics``), so nothing is
added to the request path.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def counted(factory: Callable[[], Any], outdir: str) -> Any:
    """``factory()``'s proxy, answering SIGUSR1 with its figures (called in the worker, on its
    running loop)."""
    proxy = factory()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump, proxy, outdir)
    return proxy


def _dump(proxy: Any, outdir: str) -> None:
    stats = proxy.metrics._stats.values()
    figures = {
        "clients": len(proxy.state.clients),
        "requests": sum(sum(s.by_class()) for s in stats),
    }
    path = Path(outdir) / f"{os.getpid()}.json"
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(figures))
    partial.rename(path)


def snapshot(pids: list[int], outdir: str, timeout: float = 5.0) -> list[dict[str, int]]:
    """Each worker's figures now, in the order of ``pids``."""
    paths = [Path(outdir) / f"{pid}.json" for pid in pids]
    for path in paths:
        path.unlink(missing_ok=True)
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            raise RuntimeError(f"a worker did not report within {timeout} s: {paths}")
        time.sleep(0.01)
    return [json.loads(p.read_text()) for p in paths]


def split_figures(
    before: list[dict[str, int]],
    during: list[dict[str, int]],
    after: list[dict[str, int]],
    cpu: list[float],
) -> list[dict[str, float]]:
    """Per worker: connections held mid-run, requests answered and CPU seconds over the run."""
    return [
        {
            "conns": d["clients"],
            "requests": a["requests"] - b["requests"],
            "cpu_s": c,
        }
        for b, d, a, c in zip(before, during, after, cpu, strict=True)
    ]


def describe(workers: list[dict[str, float]]) -> str:
    """``conns 27/23 req 54/46 % cpu 9.1/7.7 s`` for the table."""
    total = sum(w["requests"] for w in workers) or 1
    conns = "/".join(f"{w['conns']:.0f}" for w in workers)
    shares = "/".join(f"{100 * w['requests'] / total:.0f}" for w in workers)
    cpu = "/".join(f"{w['cpu_s']:.1f}" for w in workers)
    return f"conns {conns} req {shares} % cpu {cpu} s"
