"""CPU per POST of the agent's HTTP client, as instructions counted by callgrind: this tree and a
baseline tree in the same run.

    python bench/agent_http_cost.py --base /tmp/base/src   # 300 POSTs per count
    python bench/agent_http_cost.py --quick --base ...     # 60

Deterministic where CPU time on a loaded 2-core machine is not: a fresh interpreter importing
``vigil._agent_http`` from the tree runs under ``valgrind --tool=callgrind`` (every thread
counted: http.client's worker threads too), sends 10 warm-up POSTs (the connection made, the
worker thread started), then N heartbeat-sized POSTs on the kept-alive connection. The same run
with N = 0 is subtracted: (instructions(N) - instructions(0)) / N is one POST's cost in the
client, the event loop and the kernel-call wrappers, not the server's (an HTTP/1.1 keep-alive
server on a thread of this process, outside valgrind). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _fake_controller import fake_controller
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)
WARM = 10
CLIENT = """
import asyncio, json, sys
from vigil._agent_http import AgentHttp
URL, COUNT = sys.argv[1], int(sys.argv[2])
BODY = json.dumps({"node": "n0", "seq": 1, "info": {"cpus": 2}, "samples": [
    {"name": "cpu.util", "value": 12.5, "labels": {"cpu": str(i)}} for i in range(20)]}).encode()
HEAD = {"content-type": "application/json"}
async def main():
    async with AgentHttp() as http:
        for _ in range(WARM + COUNT):
            answer = await http.post(URL, content=BODY, headers=HEAD, timeout=30)
            assert answer.status_code == 200 and answer.json() == {"interval": 1.0}
asyncio.run(main())
"""


def instructions(src: str | None, url: str, count: int) -> int:
    """Instructions (Ir) of one client process posting WARM + ``count`` times."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if src is not None:
        env["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        code = f"WARM = {WARM}\n" + CLIENT
        argv += [sys.executable, "-c", code, url, str(count)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"the client failed ({src or 'this tree'}):\n{done.stderr[-3000:]}")
        totals = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
        assert totals is not None, "no totals line in callgrind's output"
        return int(totals.group(1))


def main(base: str | None, count: int) -> dict[str, dict[str, int]]:
    with fake_controller(1.0, keep_alive=True) as root:
        url = root + "/api/v1/heartbeats"
        trees = {"vigil": None, "baseline": base} if base else {"vigil": None}
        result = {}
        for label, src in trees.items():
            posting, idle = instructions(src, url, count), instructions(src, url, 0)
            result[label] = {"posts": count, "per_post": (posting - idle) // count, "start": idle}
        return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 POSTs instead of 300")
    parser.add_argument("--base", help="another tree's src/ to measure alongside (e.g. main's)")
    args = parser.parse_args()
    result = main(args.base, 60 if args.quick else 300)
    table = Table(title="the agent's HTTP client: instructions per POST (callgrind)")
    for column in ("tree", "POSTs", "per POST", f"start + {WARM} POSTs"):
        table.add_column(column)
    for label, row in result.items():
        table.add_row(label, str(row["posts"]), f"{row['per_post']:,}", f"{row['start']:,}")
    if "baseline" in result:
        ratio = result["vigil"]["per_post"] / result["baseline"]["per_post"]
        table.add_row("ratio", "", f"{ratio:.2f}x", "")
    console.print(table)
    print(json.dumps(result))
