"""What one refresh of the web dashboard costs at fleet scale: a real `vigil up` with 1,000 nodes.

    python bench/dashboard.py            # 1,000 nodes, 50 services x 2 replicas, 30 s per page
    python bench/dashboard.py --quick    # 200 nodes, 10 services, 12 s per page

A controller runs as its own process (SQLite, a balancer in front of every service; replicas are
`sleep` processes judged ready by an exec probe, and one service's replicas exit at once, so
incidents and guarded actions are recorded). This process posts every node's heartbeat at the
configured interval, then stops 3 % of them, which go Suspect and Down: the problems a page
should lead with. Then, for each page:

* the baseline, the dashboard as it was (``bench/dashboard_v1.js``: 8 + one-per-service API
  calls every 3 s, every node and replica drawn afresh), and
* the current page (``src/vigil/web/static/app.js``: ``GET /api/v1/overview`` with the last
  ETag, rows redrawn only when their data changed),

it measures the refresh's API side the way the page makes it (the same requests, as concurrent
as the page makes them): requests, response bytes, the refresh's wall time and the controller's
CPU per refresh (from /proc, less its idle rate measured just before: the heartbeats' share);
and the page in headless Chromium over the DevTools protocol (the baseline's script is served in
place of the current one by request interception, same origin, same CSP): main-thread time
(``Performance.getMetrics`` TaskDuration) per refresh and the DOM's size. Ends with one JSON
line: the current page's figures, the baseline's, and their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from vigil.backends import free_port

console = Console(stderr=True, width=160)
HERE = Path(__file__).resolve().parent
BASELINE_JS = HERE / "dashboard_v1.js"
BEAT = 5.0
"""Heartbeat interval (s): 1,000 nodes at 0.2 posts/s each keeps this process's load modest."""
STOPPED = 0.03
"""Share of the nodes that stop beating (they go Suspect, then Down)."""
SERIES = ("host.cpu.used_pct", "host.mem.used_pct", "gpu.util_pct")


def write_config(workdir: Path, port: int, token: str, nodes: int, services: int) -> Path:
    svc: list[dict[str, Any]] = []
    for i in range(services):
        crashing = i == 0  # one service whose replicas exit: incidents, guarded actions
        svc.append(
            {
                "name": f"svc{i}",
                "command": ["sh", "-c", "exit 3"] if crashing else ["sleep", "3600"],
                "replicas": 2,
                "node": f"n{i % nodes}",  # a label here: the replicas run on this host
                "readiness": {"exec": {"command": ["true"]}, "interval": 5.0},
                "restart": {"backoff_base": 1.0, "crash_loop": {"max_restarts": 3, "window": 60}},
                "balancer": {"policy": "round_robin"},
            }
        )
    config = {
        "data_dir": str(workdir / "data"),
        "api": {"port": port, "tokens": [{"name": "bench", "role": "admin", "token": token}]},
        "heartbeat": {"interval": BEAT, "acceptable_pause": 3 * BEAT},
        "nodes": [{"name": f"n{i}"} for i in range(nodes)],
        "services": svc,
    }
    path = workdir / "vigil.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


WORKERS = 16
"""Connections the heartbeats go over, each posting its share of the nodes one after the other:
a controller that answers slowly makes heartbeats late (counted), never a pile of requests."""


async def beat(
    url: str, token: str, nodes: int, stop: asyncio.Event, alive: list[bool], failed: list[str]
) -> None:
    """Each node's heartbeat every BEAT s while ``alive[i]``; the posts that failed are added to
    ``failed``."""
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(http: httpx.AsyncClient, mine: range) -> None:
        seq = 0
        while not stop.is_set():
            start = time.monotonic()
            for i in mine:
                if alive[i]:
                    try:
                        body = {"node": f"n{i}", "seq": seq}
                        answer = await http.post("/api/v1/heartbeats", json=body)
                        if answer.status_code != 200:
                            failed.append(str(answer.status_code))
                    except httpx.HTTPError as exc:
                        failed.append(type(exc).__name__)
            seq += 1
            await asyncio.sleep(max(0.0, start + BEAT - time.monotonic()))

    limits = httpx.Limits(max_connections=WORKERS)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        await asyncio.gather(*(worker(http, range(w, nodes, WORKERS)) for w in range(WORKERS)))


async def old_refresh(http: httpx.AsyncClient) -> list[httpx.Response]:
    """The requests bench/dashboard_v1.js makes for one refresh, as concurrent as it makes them."""
    first = await asyncio.gather(
        http.get("/api/v1/nodes"),
        http.get("/api/v1/services"),
        http.get("/api/v1/incidents", params={"state": "active", "limit": 50}),
        http.get("/api/v1/incidents", params={"limit": 30}),
        http.get("/api/v1/actions", params={"limit": 25}),
        *(http.get("/api/v1/series/latest", params={"name": n}) for n in SERIES),
    )
    names = [s["name"] for s in first[1].json()]
    second = await asyncio.gather(*(http.get(f"/api/v1/services/{n}/balancer") for n in names))
    return [*first, *second]


class NewPage:
    """The requests app.js makes: one overview, with the ETag of the last answer."""

    def __init__(self) -> None:
        self.tag: str | None = None

    async def refresh(self, http: httpx.AsyncClient) -> list[httpx.Response]:
        headers = {"If-None-Match": self.tag} if self.tag else {}
        answer = await http.get("/api/v1/overview", params={"nodes": "problems"}, headers=headers)
        self.tag = answer.headers.get("ETag", self.tag)
        return [answer]


async def server_seconds(http: httpx.AsyncClient) -> float:
    """The controller's own time answering the page's GETs so far (its request-duration
    histogram's sums, /metrics itself left out): the server time, whatever this side waits."""
    text = (await http.get("/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "vigil_api_request_duration_seconds":
            continue
        for sample in family.samples:
            get = sample.labels.get("method") == "GET"
            if sample.name.endswith("_sum") and get and sample.labels.get("route") != "/metrics":
                total += sample.value
    return total


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def api_side(url: str, token: str, pid: int, refreshes: int, new: bool) -> dict[str, Any]:
    proc = psutil.Process(pid)
    headers = {"Authorization": f"Bearer {token}"}
    page = NewPage()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        c0, t0 = cpu_seconds(proc), time.monotonic()
        await asyncio.sleep(3.0)  # the controller's idle rate (heartbeats, probes)
        idle_rate = (cpu_seconds(proc) - c0) / (time.monotonic() - t0)
        walls, counts, sizes, statuses = [], [], [], []
        s1 = await server_seconds(http)
        c1, t1 = cpu_seconds(proc), time.monotonic()
        for _ in range(refreshes):
            began = time.monotonic()
            answers = await (page.refresh(http) if new else old_refresh(http))
            walls.append(time.monotonic() - began)
            counts.append(len(answers))
            sizes.append(sum(len(a.content) for a in answers))
            statuses += [a.status_code for a in answers]
        spent = cpu_seconds(proc) - c1 - idle_rate * (time.monotonic() - t1)
        served = await server_seconds(http) - s1
    bad = [s for s in statuses if s not in (200, 304, 404)]
    assert not bad, f"refresh answers: {bad[:5]}"
    return {
        "requests": statistics.mean(counts),
        "bytes": statistics.mean(sizes),
        "first_bytes": sizes[0],
        "not_modified": sum(1 for s in statuses if s == 304),
        "wall_ms_p50": 1000 * statistics.median(walls),
        "wall_ms_max": 1000 * max(walls),
        "cpu_ms": max(0.0, 1000 * spent / refreshes),
        "server_ms": 1000 * served / refreshes,
    }


class Chromium:
    """Headless chromium over ``--remote-debugging-pipe`` (as tests/daemon/_browser.py), serving
    ``script`` in place of /ui/app.js when given."""

    def __init__(self, profile: Path, script: bytes | None) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            raise SystemExit("chromium is not installed (Debian: apt-get install -y chromium)")
        to_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome} 4>&{from_chrome}', binary,
             "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_chrome, from_chrome),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._id = 0
        self._script = script
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session: str = attached["sessionId"]

    def _send(self, method: str, session: str | None, params: dict[str, Any]) -> int:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        return self._id

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        wanted = self._send(method, session, params)
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed its pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("method") == "Fetch.requestPaused":
                self._fulfil(reply)
            elif reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def _fulfil(self, event: dict[str, Any]) -> None:
        assert self._script is not None
        headers = [{"name": "Content-Type", "value": "text/javascript; charset=utf-8"}]
        self._send(
            "Fetch.fulfillRequest",
            event.get("sessionId"),
            {
                "requestId": event["params"]["requestId"],
                "responseCode": 200,
                "responseHeaders": headers,
                "body": base64.b64encode(self._script).decode(),
            },
        )

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, self.session, **params)

    def evaluate(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._out)
        os.close(self._in)


# counts the page's refreshes: the baseline's first request is /nodes, the current page's /overview
COUNTER = """(() => { window.__refreshes = 0; const f = window.fetch;
  window.fetch = (u, o) => { if (/\\/api\\/v1\\/(nodes|overview)\\b/.test(String(u)))
    window.__refreshes++; return f(u, o); }; })();"""


def browser_side(url: str, token: str, seconds: float, baseline: bool) -> dict[str, Any]:
    profile = Path(tempfile.mkdtemp(prefix="vigil-dash-chrome-"))
    browser = Chromium(profile, BASELINE_JS.read_bytes() if baseline else None)
    try:
        browser.page("Performance.enable")
        browser.page("Page.enable")
        browser.page("Page.addScriptToEvaluateOnNewDocument", source=COUNTER)
        if baseline:
            browser.page("Fetch.enable", patterns=[{"urlPattern": "*/ui/app.js"}])
        browser.page("Page.navigate", url=f"{url}/ui/#token={token}")
        deadline = time.monotonic() + 60
        drawn = "document.querySelectorAll('#nodes tbody tr').length > 0 && window.__refreshes"
        while not browser.evaluate(drawn):
            if time.monotonic() > deadline:
                raise RuntimeError("the page drew no node in 60 s")
            time.sleep(0.2)
        time.sleep(3.5)  # past the first refresh's drawing

        def metrics() -> dict[str, float]:
            rows = browser.page("Performance.getMetrics")["metrics"]
            return {m["name"]: float(m["value"]) for m in rows}

        m0, r0 = metrics(), browser.evaluate("window.__refreshes")
        time.sleep(seconds)
        m1, r1 = metrics(), browser.evaluate("window.__refreshes")
        refreshes = max(1, int(r1) - int(r0))
        per = {k: 1000 * (m1[k] - m0[k]) / refreshes for k in ("TaskDuration", "ScriptDuration")}
        rows = browser.evaluate("document.querySelectorAll('tr').length")
        return {
            "refreshes": refreshes,
            "task_ms": per["TaskDuration"],
            "script_ms": per["ScriptDuration"],
            "dom_nodes": int(m1["Nodes"]),
            "rows": int(rows),
        }
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


async def wait_for(what: str, check: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


def start_controller(config: Path, log: Any) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "vigil", "up", "-c", str(config)]
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def bench(nodes: int, services: int, seconds: float, refreshes: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"vigil-dash-{nodes}-"))
    port, token = free_port(), secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
    config = write_config(workdir, port, token, nodes, services)
    log = (workdir / "vigil.log").open("wb")
    proc = start_controller(config, log)
    stop = asyncio.Event()
    alive = [True] * nodes
    failed: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:

            async def up() -> bool:
                try:
                    return (await http.get("/api/v1/nodes")).status_code == 200
                except httpx.TransportError:
                    if proc.poll() is not None:
                        raise RuntimeError((workdir / "vigil.log").read_text()[-2000:]) from None
                    return False

            await wait_for("the controller", up, 60)
            beating = asyncio.create_task(beat(url, token, nodes, stop, alive, failed))

            async def counts() -> dict[str, int]:
                try:
                    answer = await http.get("/api/v1/overview")
                except httpx.HTTPError:
                    return {}  # a controller busy starting 100 replicas: asked again
                return dict(answer.json()["nodes"]["counts"])

            await wait_for("every node up", lambda: _all_up(counts, nodes), 90)
            for i in range(0, nodes, round(1 / STOPPED)):
                alive[i] = False
            stopped = sum(1 for a in alive if not a)
            await wait_for("the stopped nodes down", lambda: _down(counts, stopped), 120)
            rows: dict[str, dict[str, Any]] = {}
            for name, new in (("baseline", False), ("current", True)):
                figures = await api_side(url, token, proc.pid, refreshes, new)
                figures.update(await asyncio.to_thread(browser_side, url, token, seconds, not new))
                rows[name] = figures
            stop.set()
            beating.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    show(nodes, services, rows, len(failed))


async def _all_up(counts: Any, nodes: int) -> bool:
    return bool((await counts()).get("up") == nodes)


async def _down(counts: Any, stopped: int) -> bool:
    return bool((await counts()).get("down", 0) >= stopped)


FIELDS = [
    ("requests / refresh", "requests", "{:.0f}"),
    ("bytes / refresh", "bytes", "{:,.0f}"),
    ("bytes, first refresh", "first_bytes", "{:,.0f}"),
    ("304 answers", "not_modified", "{:d}"),
    ("refresh wall p50 (ms)", "wall_ms_p50", "{:.1f}"),
    ("refresh wall max (ms)", "wall_ms_max", "{:.1f}"),
    ("controller time answering / refresh (ms)", "server_ms", "{:.1f}"),
    ("controller CPU / refresh (ms, noisy)", "cpu_ms", "{:.1f}"),
    ("page main thread / refresh (ms)", "task_ms", "{:.1f}"),
    ("page script / refresh (ms)", "script_ms", "{:.1f}"),
    ("table rows in the page", "rows", "{:d}"),
    ("DOM nodes", "dom_nodes", "{:d}"),
]


def show(nodes: int, services: int, rows: dict[str, dict[str, Any]], failed: int) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    table = Table(title=f"one dashboard refresh, {nodes} nodes, {services} services (load {load})")
    table.add_column("figure")
    for name in rows:
        table.add_column(name, justify="right")
    table.add_column("current / baseline", justify="right")
    ratios: dict[str, float | None] = {}
    for label, key, fmt in FIELDS:
        base, cur = rows["baseline"][key], rows["current"][key]
        ratio = round(cur / base, 4) if base else None  # None, not NaN: the line stays JSON
        ratios[key] = ratio
        shown = "—" if ratio is None else f"{ratio:.3f}"
        table.add_row(label, fmt.format(base), fmt.format(cur), shown)
    console.print(table)
    console.print(f"heartbeat posts that failed (the generator's, not the page's): {failed}")
    out = {"bench": "dashboard", "nodes": nodes, "services": services, "load": load}
    out["heartbeats_failed"] = failed
    out.update({"current": rows["current"], "baseline": rows["baseline"], "ratios": ratios})
    sys.stdout.write(json.dumps(out) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 nodes, 10 services, 12 s")
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--services", type=int, default=None)
    args = parser.parse_args()
    nodes = args.nodes or (200 if args.quick else 1000)
    services = args.services or (10 if args.quick else 50)
    seconds = 12.0 if args.quick else 30.0
    refreshes = 5 if args.quick else 20
    asyncio.run(bench(nodes, services, seconds, refreshes))


if __name__ == "__main__":
    main()
