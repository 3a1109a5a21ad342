"""Where the default detector loses NAB points: per file, per window, per false alarm.

Who calls it: a developer tuning :class:`~vigil.detectors.RecordEnsemble` (run by hand; the
headline figures come from ``bench/nab.py``, which runs the external evaluator). This script runs
the detector in process over the 19 given NAB series, scores them with the functions of
``../shared/bench/nab_eval.py`` (the same NAB scoring, imported, not re-implemented), and prints
for the standard profile's threshold: each file's raw score, each window's first alarm (rows
after the window start and the reward it earned, or MISSED) and the false alarms (row, score,
explanation). ``--set NAME=VALUE`` overrides a module constant of
``vigil.detectors._record_ensemble`` (or ``_records``, ``_transitions``) for a sensitivity
run (e.g. ``--set REST=60``, ``--set _transitions.WARM_UP=300``).

    python bench/nab_misses.py                # the table
    python bench/nab_misses.py --brief        # the three profile scores only
    python bench/nab_misses.py --set HALF=0.2 --brief
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
SHARED = HERE.parents[1].parent / "shared"
if not (SHARED / "bench" / "nab_eval.py").is_file():
    SHARED = Path("/work/shared")
_EPOCH = dt.datetime(1970, 1, 1)


def load_eval():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("nab_eval", SHARED / "bench" / "nab_eval.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nab_eval"] = mod
    spec.loader.exec_module(mod)
    return mod


def run_detector(corpus, make):  # type: ignore[no-untyped-def]
    """{file: scores}, {file: explanations} and the CPU seconds spent in ``update``."""
    scores, why, cpu = {}, {}, 0.0
    for ft in corpus.files:
        df = ft.data
        rows = []
        for line in df.lines:
            stamp, value = line.split(",")[:2]
            rows.append(((dt.datetime.fromisoformat(stamp) - _EPOCH).total_seconds(), float(value)))
        det = make()
        out = []
        t0 = time.process_time()
        for t, x in rows:
            out.append(det.update(t, x))
        cpu += time.process_time() - t0
        scores[df.rel] = np.array([s.value for s in out])
        why[df.rel] = [s.explanation for s in out]
    return scores, why, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--brief", action="store_true", help="print the three scores only")
    opts = ap.parse_args(argv)
    from vigil.detectors import RecordEnsemble, _record_ensemble, _records, _transitions

    for item in opts.set:
        name, _, text = item.partition("=")
        where, _, name = name.rpartition(".")  # "_transitions.WARM_UP" picks the module
        mods = {"_record_ensemble": _record_ensemble, "_records": _records}
        mods["_transitions"] = _transitions
        mod = next((m for k, m in mods.items() if hasattr(m, name) and where in ("", k)), None)
        if mod is None:
            raise SystemExit(
                f"--set {item}: no constant {name!r} in _record_ensemble/_records/_transitions"
            )
        setattr(mod, name, ast.literal_eval(text))
    ev = load_eval()
    data = SHARED / "data" / "nab"
    corpus = ev.build_corpus(
        str(data / "data"), str(data / "labels" / "combined_windows.json"), None
    )
    profiles, _ = ev.load_profiles(None)
    base = ev.make_baseline(corpus, profiles)
    scores, why, cpu = run_detector(corpus, RecordEnsemble)
    res = ev.score_detector(corpus, scores, profiles)
    summary = ev.summarise("vigil", corpus, res, base, profiles)
    figures = {p: round(summary["scores"][p], 2) for p in summary["scores"]}
    points = sum(ft.data.n for ft in corpus.files)
    if opts.brief:
        print(json.dumps({**figures, "points_per_cpu_s": round(points / cpu), "set": opts.set}))
        return 0
    std = res["standard"]
    prof = next(p for p in profiles if p.name == "standard")
    print(f"standard threshold {std.threshold:.6g}; scores {figures}")
    late_cost = fp_cost = 0.0
    for ft in corpus.files:
        rel = ft.data.rel
        s = scores[rel][ft.first :]
        alarm = s >= std.threshold
        print(f"\n{rel}: raw {std.files[rel].score:+.3f} (rows {ft.data.n}, from {ft.first})")
        for k, (a, b) in enumerate(ft.windows):
            hits = np.flatnonzero(alarm & (ft.win == k))
            if b < ft.first:
                continue
            if hits.size:
                i = int(hits[0])
                late_cost += 1.0 - ft.unit[i]
                row = i + ft.first
                print(
                    f"  window {a}-{b} ({b - a + 1} rows): first alarm +{row - a} rows, "
                    f"reward {ft.unit[i]:.3f}: {why[rel][row]}"
                )
            else:
                peak = int(np.argmax(np.where(ft.win == k, s, -1.0)))
                print(f"  window {a}-{b}: MISSED (best {s[peak]:.3g} at +{peak + ft.first - a})")
        for i in np.flatnonzero(alarm & (ft.win < 0)):
            fp_cost += -prof.fp * ft.unit[i]
            row = int(i) + ft.first
            print(
                f"  false alarm row {row} score {s[i]:.3g} cost {-prof.fp * ft.unit[i]:.3f}:"
                f" {why[rel][row]}"
            )
    print(
        f"\nlateness cost {late_cost:.2f} windows, false-alarm cost {fp_cost:.2f} windows "
        f"(of {corpus.n_windows}); {points / cpu:,.0f} points per CPU-second"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
