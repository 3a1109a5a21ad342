"""Benchmark of ``vigil logs parse`` against Drain3 on the Loghub-2k data, in the same run.

Accuracy (GA, PAn per data set and averaged) comes from the shared evaluator
(``../shared/bench/logparse_eval.py``) on three feeds: message content, raw lines with the
benchmark's header format, raw lines with no format (automatic header detection). Speed is
lines per CPU-second of the whole ``vigil logs parse`` process on the six files repeated to 1M+
lines (start-up included), and again on 2x the lines to show it stays flat, with peak memory;
the Drain3 baseline is the evaluator's (one Drain3 per data set with its tuned benchmark
settings, in-process, so without process start-up). Speed again on the same messages with every
number redrawn (no exact repeats: line caches cannot help), Drain3 run on exactly those lines.

Needs drain3 for the baseline: ``pip install 'drain3>=0.9.11'``. Prints a table, then ONE JSON
line with all figures. ``--quick``: two data sets, 50k lines for speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if not (SHARED / "bench" / "logparse_eval.py").exists():
    SHARED = Path("/work/shared")
EVAL = SHARED / "bench" / "logparse_eval.py"
DATA = SHARED / "data" / "loghub"
ALL = ["BGL", "HDFS", "HealthApp", "Linux", "OpenSSH", "Spark"]
VIGIL_CMD = (
    f"{shlex.quote(sys.executable)} -c "
    + shlex.quote("from vigil.cli._logs import logs_app; logs_app()")
    + " parse"
)


def _evaluator(args: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, str(EVAL), *args, "--json", out.name]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def accuracy(datasets: list[str]) -> dict[str, dict]:
    names = ",".join(datasets)
    runs = {
        "content": ["eval", "--datasets", names, "--cmd", VIGIL_CMD],
        "raw+format": [
            "eval",
            "--datasets",
            names,
            "--feed",
            "raw",
            "--cmd",
            VIGIL_CMD + " --log-format {log_format}",
        ],
        "raw-auto": ["eval", "--datasets", names, "--feed", "raw", "--cmd", VIGIL_CMD],
    }
    drain = {
        "content": ["eval", "--datasets", names, "--baseline", "drain3"],
        "raw+format": ["eval", "--datasets", names, "--feed", "raw", "--baseline", "drain3"],
        "raw-auto": ["eval", "--datasets", names, "--feed", "raw", "--baseline", "drain3"],
    }
    res: dict[str, dict] = {}
    for feed, argv in runs.items():
        res[f"vigil {feed}"] = _evaluator(argv)
        res[f"drain3 {feed}"] = _evaluator(drain[feed])
    return res


def _load(datasets: list[str]) -> dict[str, list[str]]:
    sys.path.insert(0, str(EVAL.parent))
    from logparse_eval import Dataset  # type: ignore[import-not-found]

    return {name: Dataset(str(DATA), name).content for name in datasets}


def _redraw(lines: list[str], rnd: random.Random) -> list[str]:
    """Every number drawn again (same count of digits at most, leading zeros dropped), so that
    lines do not repeat exactly and no cache keyed on the line can help."""
    digits = re.compile(r"\d+")
    return [digits.sub(lambda m: str(rnd.randrange(10 ** len(m.group()))), x) for x in lines]


def _bench_lines(
    content: dict[str, list[str]], lines: int, *, distinct: bool = False
) -> dict[str, list[str]]:
    """Per data set, its messages repeated so that all together make ``lines``; ``distinct``:
    every copy with its numbers redrawn."""
    total = sum(len(x) for x in content.values())
    repeat = -(-lines // total)
    rnd = random.Random(1)
    out: dict[str, list[str]] = {name: [] for name in content}
    for _ in range(repeat):
        for name, msgs in content.items():
            out[name].extend(_redraw(msgs, rnd) if distinct else msgs)
    return out


def _write(per_set: dict[str, list[str]], path: Path, block: int = 2000) -> int:
    """The data sets' lines interleaved one copy (``block`` lines) of each at a time, as the
    previous version of this benchmark wrote them."""
    out: list[str] = []
    longest = max(len(x) for x in per_set.values())
    for start in range(0, longest, block):
        for lines in per_set.values():
            out.extend(lines[start : start + block])
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


_MEASURE = """
import json, resource, subprocess, sys
with open(sys.argv[1], "rb") as src:
    subprocess.run(sys.argv[2:], stdin=src, stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu_s": r.ru_utime + r.ru_stime, "max_rss_mb": r.ru_maxrss / 1024}))
"""


def vigil_speed(path: Path, n: int) -> dict[str, float]:
    """CPU and peak memory of one ``vigil logs parse`` process, measured by a small parent
    (so the peak is not inflated by this script's own memory at fork time)."""
    cmd = [sys.executable, "-c", _MEASURE, str(path), *shlex.split(VIGIL_CMD)]
    got = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {"lines": n, **got, "lines_per_cpu_s": n / got["cpu_s"]}


def drain3_speed(datasets: list[str], lines: int) -> dict[str, float]:
    repeat = max(1, lines // (2000 * len(datasets)))
    out = _evaluator(
        [
            "bench",
            "--datasets",
            ",".join(datasets),
            "--baseline",
            "drain3",
            "--per-dataset",
            "--repeat",
            str(repeat),
        ]
    )
    return {
        "lines": out["lines"],
        "cpu_s": out["cpu_seconds"],
        "lines_per_cpu_s": out["lines_per_cpu_s"],
    }


def drain3_speed_on(per_set: dict[str, list[str]]) -> dict[str, float]:
    """Drain3 (one per data set, its tuned benchmark settings, in-process) on exactly these
    lines: CPU time of the parse loop only."""
    import time

    from logparse_eval import Dataset, drain3_parse, drain3_settings

    n = 0
    cpu = 0.0
    for name, lines in per_set.items():
        depth, st, masks = drain3_settings(Dataset(str(DATA), name).settings, "dataset")
        c0 = time.process_time()
        drain3_parse(lines, depth, st, masks)
        cpu += time.process_time() - c0
        n += len(lines)
    return {"lines": n, "cpu_s": cpu, "lines_per_cpu_s": n / cpu}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="2 data sets, 50k lines for speed")
    a = ap.parse_args()
    try:
        import drain3  # noqa: F401
    except ImportError:
        sys.exit("the Drain3 baseline needs drain3: pip install 'drain3>=0.9.11'")
    datasets = ["HDFS", "OpenSSH"] if a.quick else ALL
    lines = 50_000 if a.quick else 1_008_000
    content = _load(datasets)
    with tempfile.TemporaryDirectory() as tmp:
        p1, p2, p3 = Path(tmp) / "a.log", Path(tmp) / "b.log", Path(tmp) / "c.log"
        n1 = _write(_bench_lines(content, lines), p1)
        n2 = _write(_bench_lines(content, 2 * lines), p2)
        distinct = _bench_lines(content, lines, distinct=True)
        n3 = _write(distinct, p3)
        v1, v2 = vigil_speed(p1, n1), vigil_speed(p2, n2)  # v1 first: its peak RSS is its own
        v3 = vigil_speed(p3, n3)
        empty = Path(tmp) / "empty.log"
        empty.write_text("")
        start_cpu = vigil_speed(empty, 1)["cpu_s"]  # import and start-up, no line
    d3 = drain3_speed(datasets, lines)
    d3_distinct = drain3_speed_on(distinct)
    acc = accuracy(datasets)
    print(
        f"{'parser / feed':24} " + " ".join(f"{d[:9]:>9}" for d in datasets) + "   avg GA  avg PAn"
    )
    for name, r in acc.items():
        per = {x["dataset"]: x for x in r["datasets"]}
        cells = " ".join(f"{per[d]['GA']:9.3f}" for d in datasets)
        print(f"{name:24} {cells}   {r['average']['GA']:.3f}   {r['average']['PA_norm']:.3f}")
    ratio = v1["lines_per_cpu_s"] / d3["lines_per_cpu_s"]
    ratio_distinct = v3["lines_per_cpu_s"] / d3_distinct["lines_per_cpu_s"]
    print()
    print(f"{'speed (lines/CPU-s)':44} {'vigil':>9} {'drain3':>9} {'ratio':>6}")
    print(
        f"{f'repeated lines ({n1:,})':44} {v1['lines_per_cpu_s']:9,.0f} "
        f"{d3['lines_per_cpu_s']:9,.0f} {ratio:5.1f}x"
    )
    print(
        f"{f'distinct lines, numbers redrawn ({n3:,})':44} {v3['lines_per_cpu_s']:9,.0f} "
        f"{d3_distinct['lines_per_cpu_s']:9,.0f} {ratio_distinct:5.1f}x"
    )
    if min(v1["cpu_s"], v3["cpu_s"]) > 2 * start_cpu:
        warm = {k: v["lines"] / (v["cpu_s"] - start_cpu) for k, v in (("1x", v1), ("d", v3))}
        print(
            f"without the {start_cpu:.2f} CPU-s of process start-up: "
            f"{warm['1x']:,.0f} repeated ({warm['1x'] / d3['lines_per_cpu_s']:.1f}x), "
            f"{warm['d']:,.0f} distinct ({warm['d'] / d3_distinct['lines_per_cpu_s']:.1f}x)"
        )
    else:  # --quick: start-up is most of the run, the difference would be noise
        print(f"(start-up, {start_cpu:.2f} CPU-s, is most of this short run: no figure without it)")
    print(
        f"{f'repeated lines, 2x ({n2:,})':44} {v2['lines_per_cpu_s']:9,.0f}"
        f"   (flat: {v2['lines_per_cpu_s'] / v1['lines_per_cpu_s']:.2f} of 1x; "
        f"peak RSS {v1['max_rss_mb']:.0f} MB at 1x, {v2['max_rss_mb']:.0f} MB at 2x)"
    )
    summary = {
        "datasets": datasets,
        "accuracy": {
            name: {
                "GA": r["average"]["GA"],
                "PAn": r["average"]["PA_norm"],
                "per_dataset": {
                    x["dataset"]: {"GA": x["GA"], "PAn": x["PA_norm"]} for x in r["datasets"]
                },
            }
            for name, r in acc.items()
        },
        "speed": {
            "vigil": v1,
            "vigil_2x": v2,
            "vigil_distinct_lines": v3,
            "drain3": d3,
            "ratio": ratio,
            "drain3_distinct_lines": d3_distinct,
            "ratio_distinct_lines": ratio_distinct,
            "vigil_start_up_cpu_s": start_cpu,
        },
    }
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
