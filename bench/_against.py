"""What the benches that measure against an older commit share: its export, the worker runs,
the loop-gap watcher and the interleaved current/baseline rows.

Used by bench/log_stall.py, bench/scrape_stall.py (whole main: :func:`loop_gap_main`),
bench/alert_burst.py (command line, loop gaps, interleaved medians) and
bench/families.py (the baseline export and the worker run). Each bench runs its measurement in
a worker process (``python <bench> --worker ARG``) with ``PYTHONPATH`` on either this checkout's
src/ or the baseline's, exported here with ``git archive``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TICK = 0.01


def export(dest: Path, rev: str, bench: str) -> str:
    """``rev``'s src/ unpacked under ``dest``; returns the full commit (``bench`` names the
    script in the error)."""
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = dest / "base.tar"
        subprocess.run([*git, "archive", "-o", str(archive), commit, "src"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(
            f"bench/{bench}: cannot export {rev} from {ROOT} with git ({exc}); run it "
            f"from a git checkout that has commit {rev} (or name another with --baseline REV)"
        )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return commit


def run_worker(script: str, src: Path, arg: str, timeout: float) -> dict[str, Any]:
    """``script --worker arg`` with ``src`` on ``PYTHONPATH``: its last stdout line, as JSON.

    Raises :class:`subprocess.TimeoutExpired` past ``timeout`` seconds; exits naming the
    script and the code if the worker fails."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        out = subprocess.run(
            [sys.executable, script, "--worker", arg],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        sys.exit(f"bench/{Path(script).name}: the worker on {src} failed:\n{exc.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


class LoopGaps:
    """A task ticking every :data:`TICK` s on the running loop; while :attr:`measuring`, it
    keeps the gap between two of its ticks (how long the loop was held)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.measuring = False
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            if self.measuring:
                self.gaps.append(now - last)
            last = now

    def stop(self) -> list[float]:
        """Stops the ticks; the gaps, sorted."""
        self._task.cancel()
        return sorted(self.gaps)


def gap_figures(gaps: list[float]) -> dict[str, float]:
    """The longest of ``gaps`` (sorted seconds, as :meth:`LoopGaps.stop` returns them, at least
    one) and their p99, in milliseconds."""
    return {
        "max_gap_ms": round(gaps[-1] * 1000, 1),
        "p99_gap_ms": round(gaps[int(0.99 * (len(gaps) - 1))] * 1000, 1),
    }


async def post_from_thread(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` from a thread with its own HTTP client (so the loop is free while it
    waits): ``answer_s`` and the answer's JSON as ``json``."""
    import httpx

    out: dict[str, Any] = {}

    def post() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
            started = time.perf_counter()
            resp = client.post(url, json=body)
            resp.raise_for_status()
            out["answer_s"] = time.perf_counter() - started
            out["json"] = resp.json()

    thread = threading.Thread(target=post)
    thread.start()
    await asyncio.to_thread(thread.join)
    return out


def interleaved(
    script: str,
    base_src: Path,
    sizes: list[int],
    repeat: int,
    keys: tuple[str, ...],
    label: str,
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    """For each size, ``repeat`` worker runs of the current code and of the baseline,
    interleaved (both see the same noise): a row of medians, ``key`` and ``baseline_key``."""
    rows: list[dict[str, Any]] = []
    for n in sizes:
        current: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for _ in range(repeat):
            current.append(run_worker(script, ROOT / "src", str(n), 900))
            base.append(run_worker(script, base_src, str(n), 900))
            say(f"N={n}: current {current[-1]}, baseline {base[-1]}")
        row: dict[str, Any] = {label: n, "runs": repeat}
        for key in keys:
            row[key] = median(current, key)
            row[f"baseline_{key}"] = median(base, key)
        rows.append(row)
    return rows


def ab_table(
    title: str,
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    label: str,
    keys: tuple[str, ...],
) -> Any:
    """A rich table: a current and a baseline line for each row (``label`` first)."""
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right")
    for r in rows:
        for code, prefix in (("current", ""), ("baseline", "baseline_")):
            table.add_row(str(r[label]), code, *(f"{r[prefix + k]:g}" for k in keys))
    return table


def ab_run(
    script: str,
    doc: str,
    baseline: str,
    sizes: tuple[list[int], list[int]],
    keys: tuple[str, ...],
    label: str,
    measure: Callable[[int, Path], Awaitable[dict[str, Any]]],
) -> tuple[argparse.Namespace, str, list[dict[str, Any]], Any] | None:
    """A bench's command line: ``--worker N`` prints ``measure(N, tmp)`` as JSON (None then);
    otherwise the baseline exported and the interleaved rows for ``sizes`` (quick, full).
    Returns the arguments, the baseline's commit, the rows and the console (stderr)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    quick, full = sizes
    parser.add_argument(
        "--quick", action="store_true", help=f"N = {'/'.join(map(str, quick))}, one run"
    )
    parser.add_argument("--repeat", type=int, help="runs per case and code (3; 1 quick)")
    parser.add_argument("--baseline", default=baseline, help=f"git revision ({baseline[:8]})")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(measure(args.worker, Path(tmp)))))
        return None
    from rich.console import Console

    console = Console(stderr=True, width=140)
    repeat = max(1, args.repeat or (1 if args.quick else 3))
    with tempfile.TemporaryDirectory() as tmp:
        commit = export(Path(tmp), args.baseline, Path(script).name)
        base = Path(tmp) / "src"
        rows = interleaved(
            script, base, quick if args.quick else full, repeat, keys, label, console.print
        )
    return args, commit, rows, console


@asynccontextmanager
async def running_controller(tmp: Path, token: dict[str, str], **config: Any) -> AsyncIterator[Any]:
    """A real :class:`vigil.daemon.Controller` (whichever vigil is on the path) with its data
    in ``tmp``, its API on a free port with one ``token`` (name, role, token) and ``config``;
    started, and stopped after."""
    from vigil.daemon import Controller
    from vigil.settings import Settings

    settings = Settings.model_validate(
        {"data_dir": str(tmp / "data"), "api": {"port": 0, "tokens": [token]}, **config}
    )
    controller = Controller(settings, base_dir=tmp)
    task = asyncio.create_task(controller.run())
    await controller.started.wait()
    try:
        yield controller
    finally:
        controller.stop()
        await task


def loop_gap_main(
    script: str,
    doc: str,
    baseline: str,
    sizes: tuple[list[int], list[int]],
    keys: tuple[str, ...],
    label: str,
    measure: Callable[[int, Path], Awaitable[dict[str, Any]]],
    *,
    name: str,
    title: str,
    columns: tuple[str, ...],
) -> None:
    """The main() of a bench whose figures include :func:`gap_figures`: :func:`ab_run`, each
    row's ``max_gap_ratio`` (current over baseline), the table titled ``title`` and the JSON
    line of bench ``name`` against the baseline before the fix."""
    ran = ab_run(script, doc, baseline, sizes, keys, label, measure)
    if ran is None:
        return
    args, commit, rows, console = ran
    for row in rows:
        row["max_gap_ratio"] = round(row["max_gap_ms"] / row["baseline_max_gap_ms"], 3)
    console.print(ab_table(f"{title}; baseline {commit[:8]}", columns, rows, label, keys))
    print(
        json.dumps(
            {
                "bench": name,
                "quick": args.quick,
                "baseline": f"before-fix@{commit}",
                "rows": rows,
            }
        )
    )
