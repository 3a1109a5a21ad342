"""The cost of fencing PostgreSQL writes: a write transaction of a store that leads (the fence:
the leadership epoch read under a shared advisory lock) against the same transaction of a store
that does not (the baseline), and against the alternative that was not built (the claim
connection's lock looked up in ``pg_locks``), in the same run, on a private PostgreSQL server
(``tests/_postgres.py``: loopback, fsync and synchronous_commit off, so the baseline is cheaper
than a production commit and the ratios are upper bounds).

Workloads: ``set_meta`` (one upsert: the smallest write the controller makes) and
``append_audit`` (the audit head under its advisory lock, then an insert). Per transaction:
wall time, the client's CPU (this process) and the server backend's CPU
(``/proc/<pid>/schedstat``, in ns). Rounds alternate the variants; medians over rounds.

    python bench/fence_cost.py            # 15 rounds of 1,000 transactions per variant
    python bench/fence_cost.py --quick    # 3 rounds of 200 (CI)

Prints a table, then one JSON line with every variant's figures and the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _postgres import start_server
from vigil.store import DatabaseClaim, SqlStore


class PgLocksCheck:
    """The alternative not built: the claim connection's backend still holds the advisory lock
    (looked up in ``pg_locks`` at the start of the write transaction). A check, not a fence:
    the claim can be lost between it and the commit."""

    def __init__(self, claim: DatabaseClaim, pid: int) -> None:
        self.params = {
            "pid": pid,
            "hi": (claim.key >> 32) & 0xFFFFFFFF,
            "lo": claim.key & 0xFFFFFFFF,
        }

    def check(self, conn: Any, what: str) -> None:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = :pid AND classid = :hi AND objid = :lo AND objsubid = 1"
            ),
            self.params,
        ).scalar()
        if not held:
            raise RuntimeError(f"{what}: the claim is lost")


class RowLockCheck:
    """Another way not built: the epoch row read ``FOR SHARE`` (one statement; the new leader's
    update of the row waits for it, and a reader that waited re-reads the updated row)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def check(self, conn: Any, what: str) -> None:
        got = conn.execute(
            sa.text("SELECT value FROM meta WHERE key = 'leader' FOR SHARE")
        ).scalar()
        if got != self.value:
            raise RuntimeError(f"{what}: not the leader")


def backend_pid(store: SqlStore) -> int:
    with store._db.read("the backend pid") as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def server_cpu_ns(pid: int) -> int:
    """CPU time of a backend process so far (``/proc/<pid>/schedstat``: ns on the CPU)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def run(op: Callable[[int], None], n: int, pid: int) -> tuple[float, float, float]:
    """``n`` transactions: wall, client CPU and server CPU per transaction, in µs."""
    wall0, cpu0, srv0 = time.perf_counter(), time.process_time(), server_cpu_ns(pid)
    for i in range(n):
        op(i)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    srv = (server_cpu_ns(pid) - srv0) / 1e9
    return wall / n * 1e6, cpu / n * 1e6, srv / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 200 (CI)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("-n", type=int, default=None, help="transactions per variant per round")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    n = args.n or (200 if args.quick else 1000)
    out = sys.stdout
    try:
        server = start_server()
    except BaseException as exc:  # no PostgreSQL here: tests/_postgres.py says what to install
        if type(exc).__name__ not in ("Skipped", "Failed"):
            raise
        sys.exit(f"fence_cost: {exc}")
    try:
        with server.database("bench") as url:
            claim = DatabaseClaim(url)
            assert claim.try_acquire() is None
            assert claim._conn is not None
            claim_pid = int(claim._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            stores = {
                "baseline": SqlStore(url),
                "fence": SqlStore(url),
                "pg_locks": SqlStore(url),
                "row_lock": SqlStore(url),
            }
            stores["fence"].lead(claim.name, at=time.time())
            leader = stores["fence"].get_meta("leader")
            assert leader is not None
            stores["row_lock"]._db.fence = RowLockCheck(leader)  # type: ignore[assignment]
            stores["pg_locks"]._db.fence = PgLocksCheck(claim, claim_pid)  # type: ignore[assignment]
            pids = {name: backend_pid(store) for name, store in stores.items()}
            ops: dict[str, Callable[[SqlStore], Callable[[int], None]]] = {
                "set_meta": lambda s: lambda i: s.set_meta(f"bench {i % 50}", str(i)),
                "append_audit": lambda s: lambda i: s.append_audit(
                    at=float(i), actor="bench", action="bench", target=str(i), reason="",
                    result="ok",
                ),
            }  # fmt: skip
            figures: dict[str, dict[str, dict[str, list[float]]]] = {
                op: {v: {"wall": [], "client": [], "server": []} for v in stores} for op in ops
            }
            for r in range(rounds):
                names = list(stores)
                names = (
                    names[r % len(names) :] + names[: r % len(names)]
                )  # each variant goes first in turn
                for op, make in ops.items():
                    for name in names:
                        store = stores[name]
                        run(make(store), n // 10, pids[name])  # warm the connection
                        wall, client, srv = run(make(store), n, pids[name])
                        row = figures[op][name]
                        row["wall"].append(wall)
                        row["client"].append(client)
                        row["server"].append(srv)
            for store in stores.values():
                assert store.verify_audit() is None
                store.close()
            claim.release()
    finally:
        server.stop()

    load = Path("/proc/loadavg").read_text().split()[:3]
    out.write(
        f"fence cost: {rounds} rounds x {n} transactions per variant, load {' '.join(load)}\n\n"
    )
    out.write(
        "| write | variant | wall µs/tx | client CPU µs/tx | server CPU µs/tx | wall ratio "
        "| CPU (client+server) ratio |\n|---|---|---|---|---|---|---|\n"
    )
    result: dict[str, Any] = {"rounds": rounds, "n": n, "load": load, "pid": os.getpid()}
    for op, variants in figures.items():
        base = variants["baseline"]
        for name, row in variants.items():
            med = {k: statistics.median(v) for k, v in row.items()}
            wall_ratio = statistics.median(
                w / b for w, b in zip(row["wall"], base["wall"], strict=True)
            )
            cpu_ratio = statistics.median(
                (c + s) / (bc + bs)
                for c, s, bc, bs in zip(
                    row["client"], row["server"], base["client"], base["server"], strict=True
                )
            )
            out.write(
                f"| {op} | {name} | {med['wall']:.1f} | {med['client']:.1f} | "
                f"{med['server']:.1f} | {wall_ratio:.2f} | {cpu_ratio:.2f} |\n"
            )
            result[f"{op}.{name}"] = {
                **{k: round(v, 1) for k, v in med.items()},
                "wall_ratio": round(wall_ratio, 3),
                "cpu_ratio": round(cpu_ratio, 3),
            }
    out.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
