"""Decision-quality benchmark: p50/p99 latency of each balancing policy in a discrete-event
simulation of model replicas, against round robin (the baseline) and an oracle.

    python bench/balance_sim.py            # 200 000 requests per policy
    python bench/balance_sim.py --quick    # 20 000 (CI keeps the script from rotting)

Five replicas, each serving up to ``--slots`` requests at once (FIFO queue behind them), with
log-normal service times: three normal, one 3x slower, one that stalls (makes no progress) for
2 s out of every 10 s. Poisson arrivals at 80% of the total capacity. Each policy runs the
product's code, :class:`vigil.balancer.Pool` with the policy from :mod:`vigil.balancer.policies`,
on the simulated clock; every policy sees the same arrivals and the same job sizes (common random
numbers). The oracle joins the shortest expected delay with exact knowledge of every queue, each
replica's speed and the stall schedule (not of job sizes, which nobody knows in advance).

Prints a table, then one JSON line with the figures and the baseline's (round robin). Round
robin (and ``weighted`` with equal weights) sends the slow replica twice what it can serve, so
its queue, and its p99, grow for as long as the run lasts: the table flags such policies as
unstable, and ``--capacity-weights`` gives ``weighted`` the weights an informed operator would.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
from collections import deque
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from vigil.balancer import Outcome, Pool, PoolSettings, Upstream

POLICIES = ("round_robin", "weighted", "least_conn", "least_time", "p2c_ewma", "hash")
MEAN_SERVICE = 0.1  # seconds, at normal speed: a short generation
SIGMA = 0.6  # log-normal shape: p99/p50 of service times ~ 4
SLOWDOWN = (1.0, 1.0, 1.0, 3.0, 1.0)  # replica 3 is 3x slower
STALL = (4, 10.0, 2.0, 5.0)  # replica 4 stalls 2 s of every 10 s, from t = 5 s
SESSIONS = 10_000  # affinity keys for the hash policy


def stalled_until(replica: int, t: float) -> float:
    """End of the stall that covers ``t`` on ``replica``, or ``t`` if it is not stalled."""
    who, period, length, phase = STALL
    if replica != who or t < phase:
        return t
    into = (t - phase) % period
    return t - into + length if into < length else t


def finish_time(replica: int, start: float, work: float) -> float:
    """When ``work`` seconds of service started at ``start`` end, skipping stalls."""
    who, period, length, phase = STALL
    t = stalled_until(replica, start)
    if replica != who:
        return t + work
    while True:
        k = math.floor((t - phase) / period) + 1 if t >= phase else 0
        next_stall = phase + k * period
        if t + work <= next_stall:
            return t + work
        work -= next_stall - t
        t = next_stall + length


@dataclass
class Replica:
    index: int
    slots: int
    busy: int = 0
    queue: deque[tuple[int, float]] = field(default_factory=deque)  # (job, work)

    @property
    def in_system(self) -> int:
        return self.busy + len(self.queue)


def capacities(slots: int) -> list[float]:
    """Requests per second each replica can serve, counting the stalls."""
    rates = [slots / (MEAN_SERVICE * s) for s in SLOWDOWN]
    rates[STALL[0]] *= 1.0 - STALL[2] / STALL[1]
    return rates


def capacity(slots: int) -> float:
    """Requests per second all replicas can serve together."""
    return sum(capacities(slots))


def overloaded(shares: list[float], rate: float, slots: int) -> list[str]:
    """Replicas sent more than they can serve: their queues grow for as long as the run lasts,
    so the policy's tail latency is a function of the run's length, not a steady state."""
    return [
        f"r{i} gets {share * rate / cap:.1f}x its capacity"
        for i, (share, cap) in enumerate(zip(shares, capacities(slots), strict=True))
        if share * rate > cap
    ]


def workload(n: int, rate: float, seed: int) -> tuple[list[float], list[float], list[str]]:
    rng = random.Random(seed)
    mu = math.log(MEAN_SERVICE) - SIGMA * SIGMA / 2
    t = 0.0
    arrivals, works, keys = [], [], []
    for _ in range(n):
        t += rng.expovariate(rate)
        arrivals.append(t)
        works.append(rng.lognormvariate(mu, SIGMA))
        keys.append(f"s{rng.randrange(SESSIONS)}")
    return arrivals, works, keys


def oracle_choice(replicas: list[Replica], now: float) -> int:
    """Join the shortest expected delay: the wall time until the new request would finish, from
    the exact queue lengths, speeds and the end of a stall in progress, with mean job sizes.
    It does not foresee a stall that has not begun (no policy can)."""
    best, best_delay = 0, math.inf
    for r in replicas:
        mean = MEAN_SERVICE * SLOWDOWN[r.index]
        ahead = max(r.in_system - r.slots + 1, 0) * mean / r.slots
        delay = stalled_until(r.index, now) - now + ahead + mean
        if delay < best_delay:
            best, best_delay = r.index, delay
    return best


def simulate(
    policy: str,
    work: tuple[list[float], list[float], list[str]],
    slots: int,
    seed: int,
    weights: tuple[float, ...] = (1.0,) * len(SLOWDOWN),
) -> tuple[list[float], list[int]]:
    """Run one policy (or "oracle") over the workload: each request's latency and replica."""
    arrivals, works, keys = work
    replicas = [Replica(i, slots) for i in range(len(SLOWDOWN))]
    upstreams = [
        Upstream(f"r{i}", "127.0.0.1", 9000 + i, configured_weight=weights[i])
        for i in range(len(SLOWDOWN))
    ]
    settings = PoolSettings(policy="round_robin" if policy == "oracle" else policy)
    pool = Pool(upstreams, settings, rng=random.Random(seed))
    handle: dict[int, Upstream] = {}
    latency = [0.0] * len(arrivals)
    chosen = [0] * len(arrivals)
    events: list[tuple[float, int, int]] = []  # (time, kind 0=done 1=arrival, job)
    for job, t in enumerate(arrivals):
        events.append((t, 1, job))
    heapq.heapify(events)

    def start(replica: Replica, job: int, work_s: float, now: float) -> None:
        replica.busy += 1
        end = finish_time(replica.index, now, work_s * SLOWDOWN[replica.index])
        heapq.heappush(events, (end, 0, job))

    while events:
        now, kind, job = heapq.heappop(events)
        if kind == 1:
            if policy == "oracle":
                index = oracle_choice(replicas, now)
            else:
                upstream = pool.acquire(now, key=keys[job])
                assert upstream is not None, "every replica is always eligible here"
                handle[job] = upstream
                index = int(upstream.id[1:])
            chosen[job] = index
            replica = replicas[index]
            if replica.busy < replica.slots:
                start(replica, job, works[job], now)
            else:
                replica.queue.append((job, works[job]))
        else:
            latency[job] = now - arrivals[job]
            replica = replicas[chosen[job]]
            replica.busy -= 1
            if replica.queue:
                nxt, work_s = replica.queue.popleft()
                start(replica, nxt, work_s, now)
            upstream_done = handle.pop(job, None)
            if upstream_done is not None:
                pool.release(upstream_done, now, outcome=Outcome.OK, latency=latency[job])
    return latency, chosen


def summarise(latency: list[float], chosen: list[int], warmup: int) -> dict[str, object]:
    kept = sorted(latency[warmup:])
    q = statistics.quantiles(kept, n=1000, method="inclusive")
    counts = [0] * len(SLOWDOWN)
    for index in chosen[warmup:]:
        counts[index] += 1
    return {
        "p50": q[499],
        "p99": q[989],
        "p999": q[998],
        "mean": statistics.fmean(kept),
        "shares": [round(c / len(kept), 4) for c in counts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 requests per policy")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--utilisation", type=float, default=0.8)
    parser.add_argument("--slots", type=int, default=4, help="concurrent requests per replica")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--capacity-weights",
        action="store_true",
        help="configure weights 1/slowdown (an operator who knows r3 is 3x slower)",
    )
    args = parser.parse_args()
    n = args.requests or (20_000 if args.quick else 200_000)
    rate = args.utilisation * capacity(args.slots)
    work = workload(n, rate, args.seed)
    warmup = n // 10
    weights = tuple(1.0 / s if args.capacity_weights else 1.0 for s in SLOWDOWN)
    results: dict[str, dict[str, object]] = {}
    for name in (*POLICIES, "oracle"):
        latency, chosen = simulate(name, work, args.slots, args.seed, weights)
        results[name] = summarise(latency, chosen, warmup)
    report(results, n, rate, args)


def report(
    results: dict[str, dict[str, object]], n: int, rate: float, args: argparse.Namespace
) -> None:
    def p99(name: str) -> float:
        value = results[name]["p99"]
        assert isinstance(value, float)
        return value

    base, oracle = p99("round_robin"), p99("oracle")
    table = Table(title=f"{n} requests at {args.utilisation:.0%} of capacity ({rate:.0f} req/s)")
    for column in (
        "policy",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "mean ms",
        "p99/RR",
        "p99/oracle",
        "% to r0/r1/r2/r3 slow/r4 stalls",
    ):
        table.add_column(column, justify="left" if column.startswith(("policy", "sh")) else "right")
    for name, figures in results.items():
        table.add_row(
            name,
            *(f"{float(figures[k]) * 1000:.0f}" for k in ("p50", "p99", "p999", "mean")),  # type: ignore[arg-type]
            f"{p99(name) / base:.3f}",
            f"{p99(name) / oracle:.3f}",
            "/".join(f"{s * 100:.0f}" for s in figures["shares"]),  # type: ignore[attr-defined]
        )
    console = Console(width=140)
    console.print(table)
    unstable = {}
    for name, figures in results.items():
        shares = figures["shares"]
        assert isinstance(shares, list)
        notes = overloaded(shares, rate, args.slots)
        if notes:
            unstable[name] = notes
            console.print(f"[yellow]{name}: unstable, {'; '.join(notes)}[/yellow]")
    p2c = p99("p2c_ewma")
    line = {
        "bench": "balance_sim",
        "requests": n,
        "utilisation": args.utilisation,
        "slots": args.slots,
        "seed": args.seed,
        "capacity_weights": args.capacity_weights,
        "p99_ms": {k: round(p99(k) * 1000, 1) for k in results},
        "p50_ms": {k: round(float(v["p50"]) * 1000, 1) for k, v in results.items()},  # type: ignore[arg-type]
        "baseline": {"name": "round_robin", "p99_ms": round(base * 1000, 1)},
        "unstable": unstable,
        "p2c_p99_vs_baseline": round(p2c / base, 4),
        "p2c_p99_vs_oracle": round(p2c / oracle, 4),
        "targets": {
            "p2c_p99_le_half_baseline": p2c <= 0.5 * base,
            "p2c_p99_within_15pct_of_oracle": p2c <= 1.15 * oracle,
        },
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
