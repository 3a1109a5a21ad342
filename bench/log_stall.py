"""How long one agent batch of new ERROR templates stalls a real controller's event loop.

    python bench/log_stall.py            # N = 250 / 1000 new ERROR templates, 3 runs each
    python bench/log_stall.py --quick    # N = 250, one run (CI keeps it from rotting)

A real :class:`vigil.daemon.Controller` (SQLite store, API on a socket) runs in a worker
process; after a warm-up batch, one agent batch (``POST /api/v1/logs/batches``, sent from a
thread with its own HTTP client) carries N new ERROR templates: each is a critical novelty
finding, and each opens or joins the incident ``logs:n1/app``. A 10 ms asyncio task on the
controller's loop records the longest gap between two of its ticks from the POST until the
incident holds every finding (that gap is how long heartbeats, probes and the API waited), and
the p99 of those gaps. Also shown: the POST's answer time and the time until the incident
holds all N findings.

**Baseline**: the code before the fix (commit :data:`BASELINE`; ``--baseline REV`` for another),
exported with ``git archive`` and put on ``PYTHONPATH`` of a worker process, measured in the same
run. Figures are the median of ``--repeat`` runs. Ends with one JSON line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import LoopGaps, gap_figures, loop_gap_main, post_from_thread, running_controller

BASELINE = "d3acb28d48caccc29b4c19455fac9bf712e84565"
"""main before the fix: every severe log finding wrote its incident on the event loop."""
AGENT_TOKEN = "bench-agent-token-0123456789"
ADMIN_TOKEN = "bench-admin-token-0123456789"


def batch(seq: int, templates: list[str], level: str) -> dict[str, Any]:
    now = time.time()
    item = {"source": "app", "count": 1, "first_at": now, "last_at": now, "level": level}
    return {
        "node": "n1",
        "agent_id": "bench",
        "seq": seq,
        "sent_at": now,
        "templates": [{**item, "template": t, "samples": [t]} for t in templates],
        "stats": {},
    }


def errors(n: int) -> list[str]:
    words = ["disk", "nccl", "cuda", "pcie", "ecc", "link", "fan", "psu", "dimm", "nvlink"]
    return [
        f"ERROR {words[i % 10]} fault {words[(i // 10) % 10]} unit{i} lost {words[(i // 100) % 10]}"
        for i in range(n)
    ]


async def measure(n: int, tmp: Path) -> dict[str, Any]:
    token = {"name": "root", "role": "admin", "token": ADMIN_TOKEN}
    async with running_controller(
        tmp,
        token,
        agents=[{"node": "n1", "token": AGENT_TOKEN}],
        nodes=[{"name": "n1"}],
        logs={"analysis": {"warmup_lines": 10, "warmup_seconds": 0}},
    ) as controller:
        url = f"http://127.0.0.1:{controller.api_port}/api/v1/logs/batches"

        def findings() -> int:
            incident = controller.store.find_active_incident("logs:n1/app")
            return 0 if incident is None else incident.findings

        loop = LoopGaps()
        try:
            warm = [f"INFO warm up line {i}" for i in range(20)]
            await post_from_thread(url, AGENT_TOKEN, batch(1, warm, "INFO"))
            await asyncio.sleep(0.2)
            loop.measuring = True
            started = time.perf_counter()
            out = await post_from_thread(url, AGENT_TOKEN, batch(2, errors(n), "ERROR"))
            while await asyncio.to_thread(findings) < n:
                if time.perf_counter() - started > 600:
                    raise SystemExit(f"bench/log_stall.py: the incident never held {n} findings")
                await asyncio.sleep(0.05)
            written = time.perf_counter() - started
            loop.measuring = False
        finally:
            gaps = loop.stop()
    return {
        **gap_figures(gaps),
        "answer_s": round(out["answer_s"], 3),
        "written_s": round(written, 3),
    }


KEYS = ("max_gap_ms", "p99_gap_ms", "answer_s", "written_s")


def main() -> None:
    loop_gap_main(
        __file__,
        __doc__,
        BASELINE,
        ([250], [250, 1000]),
        KEYS,
        "templates",
        measure,
        name="log_stall",
        title="one agent batch of N new ERROR templates",
        columns=("N", "code", "max loop gap ms", "p99 gap ms", "POST answered s", "all written s"),
    )


if __name__ == "__main__":
    main()
