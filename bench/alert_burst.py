"""How long one Alertmanager notification of N new alerts takes, and how long it stalls the loop.

    python bench/alert_burst.py            # N = 100 / 1000 new alerts, 3 runs each
    python bench/alert_burst.py --quick    # N = 100, one run (CI keeps it from rotting)

A real :class:`vigil.daemon.Controller` (SQLite store, API on a socket) runs in a worker
process; one notification (``POST /api/v1/alerts/alertmanager``, sent from a thread with its own
HTTP client) carries N firing alerts on N subjects Vigil does not know, so each opens an
incident and writes an audit entry (the worst case: nothing is a repeat). A 10 ms asyncio task on
the controller's loop records the longest gap between two of its ticks while the POST is served
(how long heartbeats, probes and the API waited), their 99th percentile and their median.
Alertmanager gives up on a webhook after 10 s by default (and sends it again).

The route is warmed first with a notification of one alert: FastAPI builds a route's state on
its first request (seen holding the loop in a first request's longest gaps here), once per
controller life, whatever the receiver does. The
longest full (generation 2) garbage collection in the measured window is reported too
(``gc2_ms``): a collection holds the GIL, so it stalls the loop from any thread, and a fresh
controller's first full collection (its whole young heap: 60-250 ms here) falls in the window
of either code at N=1000; ``p99_gap_ms`` shows the stalls besides that one.

**Baseline**: main before the receiver's store work moved to a writer thread (commit
:data:`BASELINE`: chunks of 20 alerts, one transaction each, written on the loop; ``--baseline
REV`` for another), exported with ``git archive`` and put on ``PYTHONPATH`` of a worker process,
measured in the same run, interleaved. Figures are the median of ``--repeat`` runs. Ends with
one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import LoopGaps, ab_run, ab_table, post_from_thread, running_controller

BASELINE = "80b73d1320e6807d8860223edd62b09f765c9ff0"
"""main before the writer thread: chunks of 20 alerts, one transaction each, on the loop (the
batched writes' own baseline, one to three transactions per alert on the loop, was aa16b88a)."""
OPERATOR_TOKEN = "bench-operator-token-0123456789"


def notification(n: int) -> dict[str, Any]:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"BenchAlert{i}", "severity": "critical", "unit": str(i)},
            "annotations": {"summary": f"bench alert {i}"},
            "startsAt": "2026-11-30T04:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{i:016x}",
        }
        for i in range(n)
    ]
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "vigil",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


async def measure(n: int, tmp: Path) -> dict[str, Any]:
    token = {"name": "am", "role": "operator", "token": OPERATOR_TOKEN}
    async with running_controller(tmp, token) as controller:
        url = f"http://127.0.0.1:{controller.api_port}/api/v1/alerts/alertmanager"
        warm = notification(1)
        warm["alerts"][0]["fingerprint"] = "warm-up"
        await post_from_thread(url, OPERATOR_TOKEN, warm)
        loop = LoopGaps()
        full: list[float] = []
        try:
            await asyncio.sleep(0.2)
            loop.measuring = True
            with full_collections(full):
                out = await post_from_thread(url, OPERATOR_TOKEN, notification(n))
            loop.measuring = False
            raised = out["json"]["raised"]
            if raised != n:
                raise SystemExit(f"bench/alert_burst.py: {raised} of {n} alerts raised")
            store = controller.store
            incidents = await asyncio.to_thread(lambda: store.list_incidents(limit=1))
            audit = await asyncio.to_thread(lambda: store.list_audit(limit=1))
            if incidents.total < n or audit.total < n:
                raise SystemExit(
                    f"bench/alert_burst.py: {incidents.total} incidents for {n} alerts"
                )
        finally:
            gaps = loop.stop()
    return {
        "answer_s": round(out["answer_s"], 3),
        "max_gap_ms": round(gaps[-1] * 1000, 1) if gaps else 0.0,
        "p99_gap_ms": round(gaps[int(len(gaps) * 0.99)] * 1000, 1) if gaps else 0.0,
        "median_gap_ms": round(gaps[len(gaps) // 2] * 1000, 1) if gaps else 0.0,
        "gc2_ms": round(max(full, default=0.0) * 1000, 1),
    }


@contextmanager
def full_collections(into: list[float]) -> Iterator[None]:
    """The durations of the full garbage collections (any thread) inside the block."""
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            into.append(time.perf_counter() - started[0])

    gc.callbacks.append(timed)
    try:
        yield
    finally:
        gc.callbacks.remove(timed)


KEYS = ("answer_s", "max_gap_ms", "p99_gap_ms", "median_gap_ms", "gc2_ms")


def main() -> None:
    ran = ab_run(__file__, __doc__, BASELINE, ([100], [100, 1000]), KEYS, "alerts", measure)
    if ran is None:
        return
    args, commit, rows, console = ran
    for row in rows:
        row["answer_ratio"] = round(row["answer_s"] / row["baseline_answer_s"], 3)
        row["max_gap_ratio"] = round(row["max_gap_ms"] / max(row["baseline_max_gap_ms"], 0.1), 3)
    cols = (
        "N",
        "code",
        "answered s",
        "max loop gap ms",
        "p99 gap ms",
        "median gap ms",
        "full gc ms",
    )
    title = f"one Alertmanager notification of N new alerts; baseline {commit[:8]}"
    console.print(ab_table(title, cols, rows, "alerts", KEYS))
    print(
        json.dumps(
            {
                "bench": "alert_burst",
                "quick": args.quick,
                "baseline": f"main-receiver-on-the-loop@{commit}",
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
