"""What a dashboard refresh that changed nothing (``GET /api/v1/overview`` answered 304) costs,
next to one that gets the whole answer (200), on a real controller.

    python bench/overview_304.py            # 200 and 1,000 nodes, 3 runs each
    python bench/overview_304.py --quick    # 200 nodes, one run

A real :class:`vigil.daemon.Controller` (SQLite store) with N configured nodes and 60 open
incidents runs in a worker process; its API app is called in process (``httpx.ASGITransport``,
no socket: the figures are the route's work, not the network's) with ``?nodes=all&
node_limit=500``, the page that lists every node. Figures: CPU ms per request
(``time.process_time`` over :data:`REQUESTS` requests, the controller's idle loops included)
for a 200 and for a 304 (``If-None-Match`` with the tag just given), and their ratio.

**Baseline**: the code before the fix (commit :data:`BASELINE`; ``--baseline REV`` for another),
exported with ``git archive`` and run in a worker process of its own, interleaved with the
current code's. Ends with one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import ab_run, ab_table, running_controller

BASELINE = "c85b9eed270f185d583f03878a9c18ac9905c657"
"""main before the fix: the tag was a hash of the answer, so a 304 built and serialised it."""
TOKEN = "bench-viewer-token-0123456789"
REQUESTS = 60
PAGE = "/api/v1/overview?nodes=all&node_limit=500"


async def measure(nodes: int, tmp: Path) -> dict[str, Any]:
    import httpx
    from prometheus_client import CollectorRegistry

    from vigil.api import create_app
    from vigil.model import Finding, FindingKind

    token = {"name": "bench", "role": "viewer", "token": TOKEN}
    config = {"nodes": [{"name": f"n{i:04d}"} for i in range(nodes)]}
    async with running_controller(tmp, token, **config) as controller:
        now = controller.clock()
        for i in range(60):
            finding = Finding(FindingKind.PROCESS_EXITED, f"replica:svc{i}/0", now, "exited")
            controller.incidents.raise_finding(finding)
        app = create_app(
            settings=controller.settings,
            store=controller.store,
            control=controller,
            registry=CollectorRegistry(),
            clock=controller.clock,
        )
        auth = {"Authorization": f"Bearer {TOKEN}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.bench") as http:
            first = await http.get(PAGE, headers=auth)
            assert first.status_code == 200, first.text
            tag = first.headers["ETag"]
            figures: dict[str, Any] = {"bytes": len(first.content)}
            for name, headers, status in (
                ("ms_200", auth, 200),
                ("ms_304", {**auth, "If-None-Match": tag}, 304),
            ):
                started = time.process_time()
                for _ in range(REQUESTS):
                    answer = await http.get(PAGE, headers=headers)
                    assert answer.status_code == status, (name, answer.status_code)
                figures[name] = round((time.process_time() - started) / REQUESTS * 1000, 3)
    figures["ratio"] = round(figures["ms_304"] / figures["ms_200"], 3)
    return figures


def main() -> None:
    keys = ("ms_200", "ms_304", "ratio")
    ran = ab_run(__file__, __doc__ or "", BASELINE, ([200], [200, 1000]), keys, "nodes", measure)
    if ran is None:
        return
    args, commit, rows, console = ran
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    columns = ("nodes", "code", "CPU ms / 200", "CPU ms / 304", "304 / 200")
    title = f"GET /api/v1/overview (every node, 500 a page); baseline {commit[:8]}; load {load}"
    console.print(ab_table(title, columns, rows, "nodes", keys))
    for row in rows:
        row["ms_304_vs_baseline"] = round(row["ms_304"] / row["baseline_ms_304"], 3)
    line = {"bench": "overview_304", "quick": args.quick, "load": load, "rows": rows}
    print(json.dumps(line | {"baseline": f"before-fix@{commit}"}))


if __name__ == "__main__":
    main()
