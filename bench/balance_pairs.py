"""``balance_overhead.py --pairs N``: alternated rounds of HAProxy, two Vigil workers under the
kernel's connection balance (``SO_REUSEPORT``) and two under exact balance
(:mod:`vigil.balancer._proxy_balance`), with each worker's connections, requests and CPU
(``worker_split.py``); ``--close`` makes every request a new connection. Called by
``balance_overhead.py``'s ``main``, whose helpers it uses.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def run_pairs(
    args: argparse.Namespace, backends: list[int], tmp: Path, seconds: float, load: float
) -> int:
    """``--pairs N``: N rounds of HAProxy, then 2 workers sharing in-flight counts (as ``vigil
    balance`` runs them) under kernel balance and under exact balance, the two in alternated
    order, each launched afresh (the kernel's split differs per launch); c50 only."""
    import balance_overhead as bo  # the script (run as __main__) imported by name

    rounds = []
    for i in range(args.pairs):
        results: dict[str, dict[str, dict[str, Any]]] = {}
        hport = bo.free_port()
        haproxy = bo.start_haproxy(tmp, hport, backends)
        try:
            bo.wait_port(hport)
            bo.measure(
                "haproxy", hport, seconds, False, results, [haproxy.pid], c1=False, close=args.close
            )
        finally:
            haproxy.terminate()
            haproxy.wait(10)
        order = ["kernel", "exact"] if i % 2 == 0 else ["exact", "kernel"]
        for balance in order:
            name = "vigil_2proc_shared" + ("_exact" if balance == "exact" else "")
            group = bo.launch_vigil(name, 2, False, backends, args.policy, str(tmp))
            try:
                bo.measure(
                    balance,
                    group.port,
                    seconds,
                    False,
                    results,
                    group.pids,
                    str(tmp),
                    c1=False,
                    close=args.close,
                )
            finally:
                group.stop(1.0)
        h = results["haproxy"]["c50"]
        row: dict[str, Any] = {"round": i + 1, "load": os.getloadavg()[0], "haproxy": h}
        for balance in ("kernel", "exact"):
            r = results[balance]["c50"]
            conns = [w["conns"] for w in r["workers"]]
            row[balance] = {
                **r,
                "rps_vs_haproxy": r["rps"] / h["rps"],
                "cpu_per_req_vs_haproxy": r["cpu_us_per_req"] / h["cpu_us_per_req"],
                "heavier_share": max(conns) / max(sum(conns), 1),
            }
        rounds.append(row)
        print(
            f"round {i + 1} (load {row['load']:.2f}): req/s vs HAProxy kernel "
            f"{row['kernel']['rps_vs_haproxy']:.2f}x (heavier worker "
            f"{100 * row['kernel']['heavier_share']:.0f} % of conns), exact "
            f"{row['exact']['rps_vs_haproxy']:.2f}x ({100 * row['exact']['heavier_share']:.0f} %)",
            flush=True,
        )
    print(f"{'round':>5} {'load':>5} {'kernel split':>12} {'kernel':>7} {'exact split':>12} exact")
    for row in rounds:
        k, e = row["kernel"], row["exact"]
        print(
            f"{row['round']:>5} {row['load']:>5.2f} "
            f"{'/'.join(str(w['conns']) for w in k['workers']):>12} {k['rps_vs_haproxy']:>6.2f}x "
            f"{'/'.join(str(w['conns']) for w in e['workers']):>12} {e['rps_vs_haproxy']:>6.2f}x"
        )
    wins = sum(row["exact"]["rps"] > row["kernel"]["rps"] for row in rounds)
    print(f"exact balance had the higher req/s in {wins} of {len(rounds)} rounds")
    print(
        json.dumps(
            {
                "bench": "balance_overhead_pairs",
                "cpus": os.cpu_count(),
                "load_before": load,
                "seconds": seconds,
                "policy": args.policy,
                "connection_close": args.close,
                "rounds": rounds,
                "baseline": "haproxy",
                "exact_rps_higher_rounds": wins,
            }
        )
    )
    return 0
