"""What exact connection balance costs against the kernel's, two workers, deterministically.

``python bench/balance_exact_cost.py [--runs N] [--quick]`` runs, for ``balancer.workers_balance``
``kernel`` (``SO_REUSEPORT``) and ``exact`` (one shared listening socket,
:mod:`vigil.balancer._proxy_balance`) in alternated order, each launched afresh as ``vigil
balance`` runs them (two spawned workers sharing in-flight counts, round robin over two nginx
``return 200`` backends):

- **instructions**: the two workers under ``valgrind --tool=callgrind --instr-atstart=no``
  (``--trace-children=yes``: the spawned workers are exec'd Pythons), instrumentation switched on
  for the two worker pids only (``callgrind_control -i on PID``) over a ``wrk -t1 -c50`` with
  ``Connection: close`` (a new connection per request) and one kept alive; user space only,
  summed over both workers, divided by wrk's requests;
- **idle**: the same two workers' instructions per second with no load (connections closed):
  a cost per second, not per request (exact's heartbeats), which weighs ~10-20x more per
  request under valgrind (~100-4,700 requests/s) than natively;
- **wake-ups and syscalls** without valgrind: each worker's context switches
  (``/proc/PID/status``) and utime + stime over the same two loads, and ``strace -c -f`` on both
  workers for a short ``Connection: close`` run (accepts that found nothing: ``accept4``'s errors);
- **c1000**: ``wrk -c1000`` kept alive and with ``Connection: close`` (errors, p99).

``--keep DIR`` keeps each count's two dumps as ``DIR/<balance>.<close|keepalive>.<n>.w<i>``, for
``callgrind_annotate --inclusive=yes`` per function (``bench/callgrind_diff.py`` differences them).

Prints a table and ends with one JSON line of every figure, ``exact`` next to its baseline
``kernel``. Called by hand (docs/benchmarks.md "Exact balance as the default?").
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import balance_overhead as bo  # noqa: E402


def serve(port: int, balance: str, backends: list[int]) -> None:
    """The ``--serve`` child: two workers (shared counts, ``balance``) until SIGTERM; prints
    the workers' pids once they listen."""
    from vigil.balancer._proxy_workers import Workers

    factory = functools.partial(bo.round_robin_proxy, backends, "round_robin")
    share = [f"b{i}" for i in range(len(backends))]
    group = Workers.launch(factory, "127.0.0.1", port, workers=2, share=share, balance=balance)
    print(json.dumps({"pids": group.pids}), flush=True)
    done = False

    def stop(*_: object) -> None:
        nonlocal done
        done = True

    signal.signal(signal.SIGTERM, stop)
    while not done:
        time.sleep(0.1)
    group.stop(2.0)


def start(balance: str, backends: list[int], valgrind: Path | None) -> tuple[Any, int, list[int]]:
    port = bo.free_port()
    cmd = [sys.executable, __file__, "--serve", str(port), balance, *map(str, backends)]
    if valgrind is not None:
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",
            "--instr-atstart=no",
            "--dump-instr=no",
            f"--callgrind-out-file={valgrind}/cg.%p",
            *cmd,
        ]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.kill()
        sys.exit(f"bench/balance_exact_cost.py: the {balance} workers did not start")
    pids = json.loads(line)["pids"]
    bo.wait_port(port)
    return child, port, pids


def stop(child: Any) -> None:
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(120)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def callgrind_control(pids: list[int], *args: str) -> None:
    """``callgrind_control ARGS PID`` for each worker (instrumentation on or off, a dump)."""
    for pid in pids:
        subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def callgrind_total(path: Path) -> int:
    """The ``totals:``/``summary:`` Ir of one callgrind output file."""
    m = re.search(r"^(?:totals|summary):\s+(\d+)", path.read_text(), re.M)
    return int(m.group(1)) if m else 0


def instructions(
    balance: str, backends: list[int], seconds: float, close: bool, keep: Path | None = None
) -> dict:
    with tempfile.TemporaryDirectory(prefix="exact_cost_", ignore_cleanup_errors=True) as tmp:
        out = Path(tmp)
        child, port, pids = start(balance, backends, out)
        try:
            bo.wrk(port, 50, 2, close=close)  # warm up under valgrind (slow)
            callgrind_control(pids, "-i", "on")
            r = bo.wrk(port, 50, seconds, close=close)
            # dump first: switching instrumentation off drops what was collected
            callgrind_control(pids, "-d")
            callgrind_control(pids, "-i", "off")
        finally:
            stop(child)
        # the dump above only (the exit's, instrumentation off, reads 2**64 in callgrind 3.19)
        per = [callgrind_total(out / f"cg.{pid}.1") for pid in pids]
        if keep is not None:  # for callgrind_annotate: <balance>.<close|keepalive>.<n>.w<i>
            keep.mkdir(parents=True, exist_ok=True)
            mode = "close" if close else "keepalive"
            n = len(list(keep.glob(f"{balance}.{mode}.*.w0")))
            for i, pid in enumerate(pids):
                shutil.copy(out / f"cg.{pid}.1", keep / f"{balance}.{mode}.{n + 1}.w{i}")
            (keep / f"{balance}.{mode}.{n + 1}.requests").write_text(f"{r['requests']}\n")
    return {
        "requests": r["requests"],
        "errors": r["errors"],
        "ir_workers": per,
        "ir_per_req": sum(per) / max(r["requests"], 1),
    }


def idle_instructions(balance: str, backends: list[int], seconds: float) -> dict:
    """User-space instructions per second of the two workers with no load at all (after a
    warm-up): what a mode costs per second rather than per request (exact: its heartbeats)."""
    with tempfile.TemporaryDirectory(prefix="exact_idle_", ignore_cleanup_errors=True) as tmp:
        out = Path(tmp)
        child, port, pids = start(balance, backends, out)
        try:
            bo.wrk(port, 50, 1, close=False)  # warm up, then every connection closed
            time.sleep(0.5)
            callgrind_control(pids, "-i", "on")
            time.sleep(seconds)
            callgrind_control(pids, "-d")
            callgrind_control(pids, "-i", "off")
        finally:
            stop(child)
        per = [callgrind_total(out / f"cg.{pid}.1") for pid in pids]
    return {"ir_workers": per, "ir_per_s": sum(per) / seconds}


def switches(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return sum(int(m) for m in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", text, re.M))


def native(balance: str, backends: list[int], seconds: float) -> dict:
    """Context switches and CPU per request (close and kept alive), strace's accept counts,
    c1000 kept alive and closed."""
    child, port, pids = start(balance, backends, None)
    res: dict[str, Any] = {}
    try:
        for mode, close in (("close", True), ("keepalive", False)):
            bo.wrk(port, 50, 1, close=close)
            cs0, cpu0 = sum(map(switches, pids)), bo.cpu_seconds(pids)
            r = bo.wrk(port, 50, seconds, close=close)
            cs, cpu = sum(map(switches, pids)) - cs0, bo.cpu_seconds(pids) - cpu0
            n = max(r["requests"], 1)
            res[mode] = {
                "rps": r["rps"],
                "errors": r["errors"],
                "switches_per_req": cs / n,
                "cpu_us_per_req": cpu / n * 1e6,
            }
        res["strace"] = strace(port, pids)
        for mode, close in (("c1000", False), ("c1000_close", True)):
            r = bo.wrk(port, 1000, seconds, close=close)
            res[mode] = {"rps": r["rps"], "errors": r["errors"], "p99_ms": r["p99_us"] / 1e3}
    finally:
        stop(child)
    return res


def strace(port: int, pids: list[int]) -> dict:
    with tempfile.NamedTemporaryFile(prefix="exact_strace_", suffix=".txt") as f:
        cmd = ["strace", "-c", "-f", "-o", f.name, *[a for p in pids for a in ("-p", str(p))]]
        tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        r = bo.wrk(port, 50, 3, close=True)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(30)
        text = Path(f.name).read_text()
    calls: dict[str, list[int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1].isidentifier():
            errors = int(parts[4]) if len(parts) == 6 else 0
            calls[parts[-1]] = [int(parts[3]), errors]
    n = max(r["requests"], 1)
    return {
        "requests": r["requests"],
        "accept4_per_req": calls.get("accept4", [0, 0])[0] / n,
        "accept4_failed_per_req": calls.get("accept4", [0, 0])[1] / n,
        "epoll_wait_per_req": (
            calls.get("epoll_wait", [0, 0])[0] + calls.get("epoll_pwait", [0, 0])[0]
        )
        / n,
        "getsockopt_per_req": calls.get("getsockopt", [0, 0])[0] / n,
        "syscalls_per_req": sum(c for c, _ in calls.values()) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="launches of each mode (default 3)")
    parser.add_argument("--quick", action="store_true", help="one run, shorter loads")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="keep the callgrind dumps in DIR (annotate them)"
    )
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], [int(p) for p in args.serve[2:]])
        return 0
    from vigil.balancer._pure import build

    # the workers import the same build: a balancer source edited after `make compile` (stale)
    # runs them all from source, whose counts say nothing about the compiled data plane
    print(f"data plane: {build()}", flush=True)
    runs = 1 if args.quick else args.runs
    seconds = 2.0 if args.quick else 5.0
    rows: dict[str, list[dict]] = {"kernel": [], "exact": []}
    with tempfile.TemporaryDirectory(prefix="exact_cost_ng_", ignore_cleanup_errors=True) as tmp:
        nginx, backends = bo.start_ok_backends(Path(tmp))
        try:
            for i in range(runs):
                order = ["kernel", "exact"] if i % 2 == 0 else ["exact", "kernel"]
                for balance in order:
                    row: dict[str, Any] = {"load": os.getloadavg()[0]}
                    if not args.no_callgrind:
                        row["ir_close"] = instructions(balance, backends, seconds, True, args.keep)
                        row["ir_keepalive"] = instructions(
                            balance, backends, seconds, False, args.keep
                        )
                        row["ir_idle"] = idle_instructions(balance, backends, seconds)
                    row.update(native(balance, backends, seconds))
                    rows[balance].append(row)
                    print(f"run {i + 1} {balance}: {json.dumps(row)}", flush=True)
        finally:
            nginx.terminate()
            nginx.wait(10)
    print(table(rows, not args.no_callgrind))
    print(json.dumps({"figures": rows["exact"], "baseline": rows["kernel"]}))
    return 0


def table(rows: dict[str, list[dict]], cg: bool) -> str:
    cols: list[tuple[str, Any]] = []
    if cg:
        cols += [
            ("Ir/req close", lambda r: r["ir_close"]["ir_per_req"]),
            ("Ir/req keep-alive", lambda r: r["ir_keepalive"]["ir_per_req"]),
            ("Ir/s idle", lambda r: r["ir_idle"]["ir_per_s"]),
        ]
    cols += [
        ("ctx sw/req close", lambda r: r["close"]["switches_per_req"]),
        ("CPU us/req close", lambda r: r["close"]["cpu_us_per_req"]),
        ("CPU us/req k-a", lambda r: r["keepalive"]["cpu_us_per_req"]),
        ("accept4 fail/req", lambda r: r["strace"]["accept4_failed_per_req"]),
        ("syscalls/req close", lambda r: r["strace"]["syscalls_per_req"]),
        ("c1000 err", lambda r: r["c1000"]["errors"]),
        ("c1000 p99 ms", lambda r: r["c1000"]["p99_ms"]),
        ("c1000 close err", lambda r: r["c1000_close"]["errors"]),
        ("c1000 close p99 ms", lambda r: r["c1000_close"]["p99_ms"]),
    ]
    lines = [f"{'measure':<20} {'kernel':>30} {'exact':>30} {'median ratio':>12}"]
    for name, get in cols:
        k = [float(get(r)) for r in rows["kernel"]]
        e = [float(get(r)) for r in rows["exact"]]
        base = statistics.median(k)
        ratio = statistics.median(e) / base if base else float("nan")
        fmt = lambda xs: "/".join(f"{x:.4g}" for x in xs)  # noqa: E731
        lines.append(f"{name:<20} {fmt(k):>30} {fmt(e):>30} {ratio:>11.3f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
