"""Memory of the burst detector per template, by how many sources log it (tracemalloc).

    python bench/burst_memory.py            # 200 templates x 1, 8, 256, 1000 sources
    python bench/burst_memory.py --quick    # 50 templates (CI keeps it from rotting)

Each template is logged once by each of its sources in every 10 s bucket for three buckets, so
both the open bucket's per-source counts and the bucket before's are full (the most the
detector holds). Bytes per template are tracemalloc's growth over building the detector divided
by the templates; sources' names are made before tracing starts (the caller owns them).

**Baseline**: the same detector with the per-source cap of before this change
(``vigil.logs.analysis._blame.MAX_SOURCES = 256``), measured in the same run; the other
baseline is a template logged by one source. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc

from vigil.logs.analysis import BurstDetector, _blame

OLD_MAX_SOURCES = 256


def per_template(templates: int, sources: list[str]) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detector = BurstDetector()
    for b in range(3):
        for tid in range(templates):
            for i, source in enumerate(sources):
                detector.observe(tid, b * 10.0 + i * 9.0 / len(sources), source=source)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del detector
    return used / templates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    templates = 50 if args.quick else 200
    new_cap = _blame.MAX_SOURCES
    rows = []
    for n in (1, 8, 256, 1000):
        sources = [f"node{i:04d}/app" for i in range(n)]
        _blame.MAX_SOURCES = OLD_MAX_SOURCES
        old = per_template(templates, sources)
        _blame.MAX_SOURCES = new_cap
        new = per_template(templates, sources)
        rows.append({"sources": n, "bytes_before": round(old), "bytes_after": round(new)})
    one = rows[0]["bytes_after"]
    out = sys.stdout
    out.write(
        f"{'sources':>8} {'bytes/template (cap 256)':>25} {'now (cap ' + str(new_cap) + ')':>14}"
        f" {'now/before':>11} {'now/1 source':>13}\n"
    )
    for row in rows:
        out.write(
            f"{row['sources']:>8} {row['bytes_before']:>25} {row['bytes_after']:>14} "
            f"{row['bytes_after'] / row['bytes_before']:>11.2f} "
            f"{row['bytes_after'] / one:>13.1f}\n"
        )
    worst = rows[-1]
    out.write(
        f"at 10,000 templates of {worst['sources']} sources: "
        f"{worst['bytes_before'] * 10_000 / 1e6:.0f} MB before, "
        f"{worst['bytes_after'] * 10_000 / 1e6:.0f} MB now\n"
    )
    out.write(
        json.dumps(
            {
                "bench": "burst_memory",
                "templates": templates,
                "cap": new_cap,
                "baseline_cap": OLD_MAX_SOURCES,
                "rows": rows,
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
