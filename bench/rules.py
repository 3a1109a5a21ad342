"""Anomaly rules on NAB's real series: the incidents an ``anomaly(m) > 0.9`` rule opens, and its
cost per sample, with the default detector (``RuleEngine``: RecordEnsemble) next to the previous
one (``EnsembleDetector`` + the same threshold: what ``_rules.py`` ran before), in the same run.

An incident is a rule going from normal to firing. Per series: the labelled anomaly windows
that get an incident (hit), and the incidents outside every window (false). Speed: samples per
CPU-second through the whole rule (detector + threshold + explanation), single thread.

    python bench/rules.py            # the 15 real labelled series of ../shared/data/nab
    python bench/rules.py --quick    # 4 series, for CI (a few seconds)

Prints a table, then one JSON line with both detectors' figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import time
from pathlib import Path

from vigil.detectors import EnsembleDetector, RuleEngine, RuleSpec, StaticThreshold

HERE = Path(__file__).resolve()
SHARED = HERE.parents[1].parent / "shared"
if not (SHARED / "data" / "nab").is_dir():
    SHARED = Path("/work/shared")
NAB = SHARED / "data" / "nab"
LIMIT = 0.9
QUICK = (
    "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv",
    "realAdExchange/exchange-3_cpc_results.csv",
    "realTraffic/speed_t4013.csv",
    "realKnownCause/ambient_temperature_system_failure.csv",
)


def epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.split(".")[0]).replace(tzinfo=dt.UTC).timestamp()


def default_rule(rows: list[tuple[float, float]]) -> list[float]:
    engine = RuleEngine([RuleSpec("r", "m", {}, ">", LIMIT, anomaly=True)])
    return [c.at for t, x in rows for c in engine.observe("m", {}, t, x) if c.firing]


def previous_rule(rows: list[tuple[float, float]]) -> list[float]:
    detector, threshold = EnsembleDetector(), StaticThreshold(LIMIT)
    fired = []
    for t, x in rows:
        was = threshold.firing
        threshold.update(t, detector.update(t, x).value)
        if threshold.firing and not was:
            fired.append(t)
    return fired


def judge(fired: list[float], windows: list[tuple[float, float]]) -> tuple[int, int]:
    hit = sum(any(a <= f <= b for f in fired) for a, b in windows)
    false = sum(not any(a <= f <= b for a, b in windows) for f in fired)
    return hit, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 series (CI)")
    args = parser.parse_args()
    labels = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    names = list(QUICK) if args.quick else sorted(n for n in labels if n.startswith("real"))
    totals = {"default": [0, 0, 0.0], "previous": [0, 0, 0.0]}  # hit, false, cpu seconds
    windows_all = rows_all = 0
    out = sys.stdout
    head = ("series", "windows", "default hit/false", "previous hit/false")
    out.write(f"{head[0]:56} {head[1]:>7} {head[2]:>18} {head[3]:>19}\n")
    for name in names:
        with (NAB / "data" / name).open() as f:
            rows = [(epoch(r["timestamp"]), float(r["value"])) for r in csv.DictReader(f)]
        windows = [(epoch(a), epoch(b)) for a, b in labels[name]]
        cells = []
        for label, rule in (("default", default_rule), ("previous", previous_rule)):
            started = time.process_time()
            hit, false = judge(rule(rows), windows)
            totals[label][0] += hit
            totals[label][1] += false
            totals[label][2] += time.process_time() - started
            cells.append(f"{hit}/{false}")
        windows_all += len(windows)
        rows_all += len(rows)
        out.write(f"{name:56} {len(windows):>7} {cells[0]:>18} {cells[1]:>19}\n")
    speed = {k: rows_all / v[2] for k, v in totals.items()}
    out.write(
        f"\n{len(names)} series, {rows_all} samples, {windows_all} windows, rule "
        f"anomaly(m) > {LIMIT}\n"
        f"default  (RecordEnsemble): {totals['default'][0]} windows hit, "
        f"{totals['default'][1]} false incidents, {speed['default']:,.0f} samples/CPU-s\n"
        f"previous (EnsembleDetector, baseline): {totals['previous'][0]} windows hit, "
        f"{totals['previous'][1]} false incidents, {speed['previous']:,.0f} samples/CPU-s\n"
        f"speed ratio default/previous: {speed['default'] / speed['previous']:.2f}x\n"
    )
    figures = {
        "series": len(names),
        "samples": rows_all,
        "windows": windows_all,
        "default": {
            "hit": totals["default"][0],
            "false": totals["default"][1],
            "samples_per_cpu_s": round(speed["default"]),
        },
        "baseline_previous": {
            "hit": totals["previous"][0],
            "false": totals["previous"][1],
            "samples_per_cpu_s": round(speed["previous"]),
        },
        "speed_ratio": round(speed["default"] / speed["previous"], 2),
    }
    out.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
