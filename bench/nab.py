"""NAB benchmark of ``vigil detect`` next to NAB's windowed Gaussian baseline, run in the same go.

Runs ``../shared/bench/nab_eval.py run`` (NAB's scoring, clean-room) on the default detector's
command, on the previous default (``vigil detect --detector ensemble``: the "before" figure) and
on this file's own implementation of NAB's ``windowedGaussian`` detector (the baseline), prints
the standard / reward-low-FP / reward-low-FN scores of all three with the published scores of
ARTime, Numenta HTM and contextOSE on the same 19 series (labelled as published: they are not run
here), then the speed of the detectors in points per CPU-second (in process, single thread) and
the default detector's memory, and ends with one JSON line of all the figures.

    python bench/nab.py                 # all labelled files
    python bench/nab.py --quick         # 3 files and a short speed run, for CI
    python bench/nab.py --cmd "vigil detect"

``python bench/nab.py windowed-gaussian FILE.csv`` is the baseline as a command that follows the
``vigil detect`` contract (the evaluator runs it that way).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve()
SHARED = HERE.parents[1].parent / "shared"
if not (SHARED / "bench" / "nab_eval.py").is_file():
    SHARED = Path("/work/shared")
EVAL = SHARED / "bench" / "nab_eval.py"
DATA = SHARED / "data" / "nab" / "data"
QUICK_FILES = "art_daily_jumpsup.csv,exchange-3_cpc_results.csv,speed_t4013.csv"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# Published scores on exactly these 19 series (../shared/data/README.md), not run here.
PUBLISHED = {
    "ARTime": (82.6, 74.5, 87.5),
    "contextOSE": (74.6, 72.3, 77.8),
    "Numenta HTM": (74.2, 69.6, 77.6),
    "windowed Gaussian": (35.2, 18.2, 42.5),
}
FALLBACK_CMD = "{python} -c 'import typer; from vigil.cli._detect import detect; typer.run(detect)'"


# --------------------------------------------------------------------------- the baseline


class WindowedGaussian:
    """NAB's ``windowedGaussian`` detector: ``1 - Q(|x - mean| / std)`` over a window of 6400
    values that grows to full size, then slides by steps of 100 (mean and std from running sums,
    which equals NAB's numpy recomputation up to rounding)."""

    WINDOW, STEP = 6400, 100

    def __init__(self) -> None:
        self.window: list[float] = []
        self.buffer: list[float] = []
        self.s = self.ss = 0.0
        self.mean, self.std = 0.0, 1.0

    def _refresh(self) -> None:
        n = len(self.window)
        self.mean = self.s / n
        self.std = math.sqrt(max(self.ss / n - self.mean * self.mean, 0.0)) or 0.000001

    def update(self, x: float) -> float:
        score = 0.0
        if self.window:
            z = abs(x - self.mean) / self.std
            score = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        if len(self.window) < self.WINDOW:
            self.window.append(x)
            self.s += x
            self.ss += x * x
            self._refresh()
        else:
            self.buffer.append(x)
            if len(self.buffer) == self.STEP:
                for old in self.window[: self.STEP]:
                    self.s -= old
                    self.ss -= old * old
                for new in self.buffer:
                    self.s += new
                    self.ss += new * new
                self.window = self.window[self.STEP :] + self.buffer
                self.buffer = []
                self._refresh()
        return score


def baseline_main(path: str) -> int:
    det = WindowedGaussian()
    out = sys.stdout
    out.write("timestamp,value,anomaly_score\n")
    for stamp, value in read_series(Path(path)):
        out.write(f"{stamp},{value},{det.update(float(value))!r}\n")
    return 0


# --------------------------------------------------------------------------- helpers


def read_series(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            if row:
                yield row[0], row[1]


def evaluate(cmd: str, name: str, files: str | None, jobs: int, causality: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        argv = [sys.executable, str(EVAL), "run", "--cmd", cmd, "--name", name, "--out", str(out)]
        argv += ["--jobs", str(jobs), "--causality-check", str(causality)]
        if files:
            argv += ["--files", files]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0 or not out.is_file():
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(f"nab_eval failed for {name} (exit {done.returncode})")
        doc = json.loads(out.read_text())
    det = doc["detector"]
    return {
        "scores": {p: det["scores"][p] for p in PROFILES},
        "categories": {c: v["standard"]["score"] for c, v in det["categories"].items()},
        "causality_ok": all(c["ok"] for c in doc["causality"]),
        "wall_seconds": doc["seconds"]["detector_wall"],
    }


def speed(make: Callable[[], Callable[[float, float], object]], paths: list[Path], limit: int):
    """Points per CPU-second of ``update`` alone (parsing done beforehand)."""
    series = []
    for p in paths:
        rows = [
            ((dt.datetime.fromisoformat(s) - dt.datetime(1970, 1, 1)).total_seconds(), float(v))
            for s, v in read_series(p)
        ]
        series.append(rows[:limit])
    points, cpu = 0, 0.0
    for rows in series:
        update = make()
        t0 = time.process_time()
        for t, x in rows:
            update(t, x)
        cpu += time.process_time() - t0
        points += len(rows)
    return points / cpu if cpu > 0 else math.inf


def state_bytes(n: int) -> int:
    """Memory the default detector holds after ``n`` points of a noisy series."""
    import random

    from vigil.detectors import RecordEnsemble

    rng = random.Random(0)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    det = RecordEnsemble()
    for i in range(n):
        det.update(i * 300.0, rng.gauss(0.0, 1.0))
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del det
    return held


def resolve_cmd(cmd: str | None) -> str:
    py = shlex.quote(sys.executable)
    if cmd:
        return cmd.replace("{python}", py)
    default = f"{py} -m vigil detect"
    probe = subprocess.run([sys.executable, "-m", "vigil", "detect", "--help"], capture_output=True)
    return default if probe.returncode == 0 else FALLBACK_CMD.replace("{python}", py)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["windowed-gaussian"]:
        return baseline_main(args[1])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmd", help='detector command (default "{python} -m vigil detect")')
    ap.add_argument("--quick", action="store_true", help="3 files and a short speed run")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    opts = ap.parse_args(args)
    files = QUICK_FILES if opts.quick else None
    cmd = resolve_cmd(opts.cmd)
    base_cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE))} windowed-gaussian"
    ours = evaluate(cmd, "vigil", files, opts.jobs, 1 if opts.quick else 3)
    before = evaluate(f"{cmd} --detector ensemble", "previous", files, opts.jobs, 0)
    base = evaluate(base_cmd, "windowedGaussian", files, opts.jobs, 0)

    from vigil.detectors import EnsembleDetector, RecordEnsemble

    paths = sorted(DATA.glob("*/*.csv"))
    if opts.quick:
        paths = [p for p in paths if p.name in QUICK_FILES.split(",")]
    limit = 2000 if opts.quick else 10**9
    ours_pps = speed(lambda: RecordEnsemble().update, paths, limit)
    before_pps = speed(lambda: EnsembleDetector().update, paths, limit)
    base_pps = speed(lambda: (lambda w: lambda t, x: w.update(x))(WindowedGaussian()), paths, limit)
    small, large = state_bytes(5000), state_bytes(20000)

    print(
        f"NAB ({'quick: ' + QUICK_FILES if opts.quick else 'all labelled files'}); command: {cmd}"
    )
    print(f"{'detector':<44}{'standard':>10}{'low FP':>10}{'low FN':>10}")
    runs = (
        ("vigil (default: RecordEnsemble)", ours),
        ("vigil previous default (EnsembleDetector)", before),
        ("windowedGaussian (run here)", base),
    )
    for name, res in runs:
        print(f"{name:<44}" + "".join(f"{res['scores'][p]:>10.1f}" for p in PROFILES))
    if not opts.quick:
        for name, figures in PUBLISHED.items():
            print(f"{name + ' (published, not run)':<44}" + "".join(f"{v:>10.1f}" for v in figures))
    print(
        "by category (standard): "
        + ", ".join(f"{c} {v:.1f}" for c, v in sorted(ours["categories"].items()) if v is not None)
    )
    print(f"causality check: {'ok' if ours['causality_ok'] else 'VIOLATED'}")
    print(
        f"speed: vigil {ours_pps:,.0f} points/CPU-s, previous default {before_pps:,.0f}, "
        f"windowedGaussian {base_pps:,.0f}; vigil / windowedGaussian {ours_pps / base_pps:.2f}, "
        f"vigil / previous {ours_pps / before_pps:.2f}"
    )
    print(
        f"memory: detector state {small / 1024:.0f} KiB after 5k points, "
        f"{large / 1024:.0f} KiB after 20k (bounded)"
    )
    summary = {
        "quick": opts.quick,
        "command": cmd,
        "vigil": ours["scores"],
        "previous_default": before["scores"],
        "windowed_gaussian": base["scores"],
        "published_artime_standard_19": PUBLISHED["ARTime"][0],
        "causality_ok": ours["causality_ok"],
        "points_per_cpu_s": round(ours_pps),
        "baseline_points_per_cpu_s": round(base_pps),
        "previous_points_per_cpu_s": round(before_pps),
        "speed_ratio": round(ours_pps / base_pps, 3),
        "state_bytes_5k": small,
        "state_bytes_20k": large,
    }
    print(json.dumps(summary, sort_keys=True))
    return 0 if ours["causality_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
