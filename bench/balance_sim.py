"""Decision-quality benchmark: p50/p99 latency of each balancing policy in a discrete-event
simulation of model replicas, against round robin (the baseline) and an oracle.

    python bench/balance_sim.py            # 200 000 requests per policy
    python bench/balance_sim.py --quick    # 20 000 (CI keeps the script from rotting)
    python bench/balance_sim.py --sweep --slots 1 --requests 60000   # p2c / oracle, seeds 1-3
    python bench/balance_sim.py --sweep --balancers 1,2,4 --policies all   # several balancers
    python bench/balance_sim.py --sweep --slots 1 --balancers 1,2,4 --shared-inflight
    python bench/balance_sim.py --sweep --slots 1 --balancers 1,2,4 --shared-inflight \
        --shared-learned all     # and sharing what p2c has learned (branch fit)

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

``--balancers K`` runs K independent balancers, as ``vigil balance`` with ``workers: K`` does
(SO_REUSEPORT): K :class:`Pool` objects with the same policy and their own RNG seeds, each
arrival handed to one of them uniformly at random (the kernel's hash of the connection), each
told only of its own requests' starts and ends, while the replicas (the queues) are shared. So
each sees only its own in-flight counts and latencies, which do reflect the others' load. K = 1
is the single balancer (bit-identical to before the option existed). The column "repeat" is the
share of arrivals sent to the same replica as the arrival before (0.2 for a uniform random
choice among five). ``--sweep`` with K > 1 adds "herding" (:func:`herding`: successive requests
of different balancers on the same replica, over what independent choices give; > 1 = herding)
and the own-view oracle (each balancer runs the oracle's rule on its own requests only, taking
each queue as K times its share of it): the reference for a balancer that sees only its picks.

``--shared-inflight`` models the workers of one ``vigil balance`` sharing their in-flight counts
(:mod:`vigil.balancer._pool_shared`, the product's own code over a block in this process's
memory): each of the K pools reads every replica's requests in flight over all K, and still has
its own latency estimates, RNG and arrivals. With ``--sweep`` each policy runs both ways on the
same arrivals (columns "shared"); without it, every run of K > 1 shares. The acquire + release
cost is printed with and without a block (two workers' rows).

``--shared-learned PARTS`` models this branch's product: the K pools also pool p2c_ewma's
models (:mod:`vigil.balancer._pool_learned`, the product's code over the same block): ``all``,
or a subset of ``line`` (the latency line's decayed sums), ``idle`` (the idle latency's) and
``stall`` (the stall memory), to find which part matters. With ``--sweep`` each policy runs a
third time that way (columns "learned"); the JSON line adds ``p2c_learned_worst_by_balancers``.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import statistics
import time
from collections import deque
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from vigil.balancer import Outcome, Pool, PoolSettings, Upstream
from vigil.balancer._pool_shared import SharedInFlight, local_block
from vigil.balancer.policies._p2c_pooled import PARTS

POLICIES = ("round_robin", "weighted", "least_conn", "least_time", "p2c_ewma", "hash")
MEAN_SERVICE = 0.1  # seconds, at normal speed: a short generation
SIGMA = 0.6  # log-normal shape: p99/p50 of service times ~ 4
SESSIONS = 10_000  # affinity keys for the hash policy
BURST = (1.4, 0.6, 1.0)  # bursty arrivals: rate x1.4 and x0.6 in turn, phases ~ Exp(1 s)


@dataclass(frozen=True)
class Stall:
    """``replica`` makes no progress for ``length`` s of every ``period`` s, from ``phase``."""

    replica: int
    period: float
    length: float
    phase: float


@dataclass(frozen=True)
class Scenario:
    """Replica speeds (service time multipliers), an optional stall, the arrival process."""

    name: str
    slowdown: tuple[float, ...]
    stall: Stall | None = None
    bursty: bool = False


SCENARIOS = {
    s.name: s
    for s in (
        # the issue's: r3 3x slower, r4 stalls 2 s of every 10 s
        Scenario("slow+stall", (1.0, 1.0, 1.0, 3.0, 1.0), Stall(4, 10.0, 2.0, 5.0)),
        Scenario("equal", (1.0,) * 5),
        Scenario("mixed speeds", (1.0, 1.0, 1.5, 2.0, 3.0)),
        Scenario("bursty slow+stall", (1.0, 1.0, 1.0, 3.0, 1.0), Stall(4, 10.0, 2.0, 5.0), True),
        Scenario("stall only", (1.0,) * 5, Stall(2, 7.0, 1.0, 3.0)),
    )
}
"""Scenarios by name; the first is the issue's and gets the full table."""


def stalled_until(stall: Stall | None, replica: int, t: float) -> float:
    """End of the stall that covers ``t`` on ``replica``, or ``t`` if it is not stalled."""
    if stall is None or replica != stall.replica or t < stall.phase:
        return t
    into = (t - stall.phase) % stall.period
    return t - into + stall.length if into < stall.length else t


def finish_time(stall: Stall | None, replica: int, start: float, work: float) -> float:
    """When ``work`` seconds of service started at ``start`` end, skipping stalls."""
    t = stalled_until(stall, replica, start)
    if stall is None or replica != stall.replica:
        return t + work
    while True:
        k = math.floor((t - stall.phase) / stall.period) + 1 if t >= stall.phase else 0
        next_stall = stall.phase + k * stall.period
        if t + work <= next_stall:
            return t + work
        work -= next_stall - t
        t = next_stall + stall.length


@dataclass
class Replica:
    index: int
    slots: int
    busy: int = 0
    queue: deque[tuple[int, float]] = field(default_factory=deque)  # (job, work)

    @property
    def in_system(self) -> int:
        return self.busy + len(self.queue)


def capacities(scenario: Scenario, slots: int) -> list[float]:
    """Requests per second each replica can serve, counting the stalls."""
    rates = [slots / (MEAN_SERVICE * s) for s in scenario.slowdown]
    if scenario.stall is not None:
        rates[scenario.stall.replica] *= 1.0 - scenario.stall.length / scenario.stall.period
    return rates


def capacity(scenario: Scenario, slots: int) -> float:
    """Requests per second all replicas can serve together."""
    return sum(capacities(scenario, slots))


def overloaded(scenario: Scenario, shares: list[float], rate: float, slots: int) -> list[str]:
    """Replicas sent more than they can serve: their queues grow for as long as the run lasts,
    so the policy's tail latency is a function of the run's length, not a steady state."""
    return [
        f"r{i} gets {share * rate / cap:.1f}x its capacity"
        for i, (share, cap) in enumerate(zip(shares, capacities(scenario, slots), strict=True))
        if share * rate > cap
    ]


def workload(
    scenario: Scenario, n: int, rate: float, seed: int
) -> tuple[list[float], list[float], list[str]]:
    """Arrival times (Poisson, or modulated by :data:`BURST`), job sizes and affinity keys."""
    rng = random.Random(seed)
    mu = math.log(MEAN_SERVICE) - SIGMA * SIGMA / 2
    high, low, phase_mean = BURST
    factor, switch = (high, rng.expovariate(1.0 / phase_mean)) if scenario.bursty else (1.0, 0.0)
    t = 0.0
    arrivals, works, keys = [], [], []
    for _ in range(n):
        t += rng.expovariate(rate * factor)
        while scenario.bursty and t > switch:  # memoryless: restart the gap at the switch
            factor = low if factor == high else high
            t = switch + rng.expovariate(rate * factor)
            switch += rng.expovariate(1.0 / phase_mean)
        arrivals.append(t)
        works.append(rng.lognormvariate(mu, SIGMA))
        keys.append(f"s{rng.randrange(SESSIONS)}")
    return arrivals, works, keys


def oracle_choice(
    scenario: Scenario,
    counts: list[int],
    slots: int,
    now: float,
    rng: random.Random | None = None,
) -> int:
    """Join the shortest expected delay: the wall time until the new request would finish, from
    the queue lengths ``counts`` (requests in each replica), speeds and the end of a stall in
    progress, with mean job sizes. It does not foresee a stall that has not begun (no policy
    can). The oracle passes the exact queues (ties to the first); the own-view oracle only its
    own requests, with ``rng`` for ties (else every balancer that sees none of its own requests
    anywhere would send to r0: herding by the tie rule alone)."""
    best, best_delay = 0, math.inf
    ties: list[int] = []
    for index, count in enumerate(counts):
        mean = MEAN_SERVICE * scenario.slowdown[index]
        ahead = max(count - slots + 1, 0) * mean / slots
        delay = stalled_until(scenario.stall, index, now) - now + ahead + mean
        if delay < best_delay:
            best, best_delay = index, delay
            ties = [index]
        elif delay == best_delay:
            ties.append(index)
    return best if rng is None or len(ties) == 1 else ties[rng.randrange(len(ties))]


def simulate(
    scenario: Scenario,
    policy: str,
    work: tuple[list[float], list[float], list[str]],
    slots: int,
    seed: int,
    weights: tuple[float, ...] | None = None,
    balancers: int = 1,
    balancer_of: list[int] | None = None,
    shared: bool = False,
    learned: frozenset[str] = frozenset(),
) -> tuple[list[float], list[int]]:
    """Run one policy (or "oracle", "oracle_own") over the workload: each request's latency
    and replica.

    ``balancers`` independent pools (own upstream objects, own RNG; the first seeded as a
    single balancer is) share the replicas; each arrival goes to one of them at random.
    "oracle_own" is the oracle of each balancer knowing only its own requests (their number in
    each replica, every speed and a stall in progress) and K, taking each replica's queue as K
    times its own requests there: what a balancer that sees only its own picks could do with
    perfect knowledge of the replicas, short of learning the others' load from latencies (it
    does not; K = 1: the oracle). ``balancer_of``, if given, gets the balancer of each request.
    ``shared``: the pools share their in-flight counts (K > 1), as main's workers do;
    ``learned``: and these parts of p2c_ewma's models (``_p2c_pooled.PARTS``: all of them is
    what this branch's workers share)."""
    arrivals, works, keys = work
    count = len(scenario.slowdown)
    replicas = [Replica(i, slots) for i in range(count)]
    settings = PoolSettings(policy="round_robin" if policy.startswith("oracle") else policy)
    pools = []
    rngs = [
        random.Random(seed if b == 0 else f"balancer {b} seed {seed}") for b in range(balancers)
    ]
    for b in range(balancers):
        upstreams = [
            Upstream(
                f"r{i}", "127.0.0.1", 9000 + i, configured_weight=weights[i] if weights else 1.0
            )
            for i in range(count)
        ]
        pools.append(Pool(upstreams, settings, rng=rngs[b]))
    if shared and balancers > 1:
        block = local_block(balancers, [f"r{i}" for i in range(count)])
        for b, pool in enumerate(pools):
            pool.share(SharedInFlight(block, b), learned)
    spread = random.Random(f"spread {seed}") if balancers > 1 else None
    handle: dict[int, tuple[Pool, Upstream]] = {}
    own = [[0] * count for _ in range(balancers)]  # oracle_own: each balancer's requests
    sender: dict[int, int] = {}
    latency = [0.0] * len(arrivals)
    chosen = [0] * len(arrivals)
    events: list[tuple[float, int, int]] = []  # (time, kind 0=done 1=arrival, job)
    for job, t in enumerate(arrivals):
        events.append((t, 1, job))
    heapq.heapify(events)

    def start(replica: Replica, job: int, work_s: float, now: float) -> None:
        replica.busy += 1
        size = work_s * scenario.slowdown[replica.index]
        heapq.heappush(events, (finish_time(scenario.stall, replica.index, now, size), 0, job))

    while events:
        now, kind, job = heapq.heappop(events)
        if kind == 1:
            if policy == "oracle":
                index = oracle_choice(scenario, [r.in_system for r in replicas], slots, now)
            elif policy == "oracle_own":
                b = 0 if spread is None else spread.randrange(balancers)
                guess = [count * balancers for count in own[b]]  # the others' alike
                index = oracle_choice(scenario, guess, slots, now, rngs[b])
                own[b][index] += 1
                sender[job] = b
                if balancer_of is not None:
                    balancer_of[job] = b
            else:
                b = 0 if spread is None else spread.randrange(balancers)
                pool = pools[b]
                if balancer_of is not None:
                    balancer_of[job] = b
                upstream = pool.acquire(now, key=keys[job])
                assert upstream is not None, "every replica is always eligible here"
                handle[job] = (pool, upstream)
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
            if job in sender:
                own[sender.pop(job)][chosen[job]] -= 1
            held = handle.pop(job, None)
            if held is not None:  # told to the balancer that sent it, only
                held[0].release(held[1], now, outcome=Outcome.OK, latency=latency[job])
    return latency, chosen


def summarise(latency: list[float], chosen: list[int], warmup: int) -> dict[str, object]:
    kept = sorted(latency[warmup:])
    q = statistics.quantiles(kept, n=1000, method="inclusive")
    counts = [0] * (max(chosen) + 1)
    for index in chosen[warmup:]:
        counts[index] += 1
    kept_chosen = chosen[warmup:]
    repeats = sum(1 for a, b in itertools.pairwise(kept_chosen) if a == b)
    return {
        "repeat": round(repeats / max(len(kept_chosen) - 1, 1), 4),
        "p50": q[499],
        "p99": q[989],
        "p999": q[998],
        "mean": statistics.fmean(kept),
        "shares": [round(c / len(kept), 4) for c in counts],
    }


def herding(chosen: list[int], balancer_of: list[int], warmup: int) -> float:
    """How much more often two successive requests handled by *different* balancers went to the
    same replica than two independent choices with the same shares would (the sum of the
    squared shares): 1 = the balancers choose independently, > 1 = they herd (move together
    onto the replica that looks best to all), < 1 = they avoid each other."""
    pairs = same = 0
    counts: dict[int, int] = {}
    for j in range(warmup, len(chosen) - 1):
        counts[chosen[j]] = counts.get(chosen[j], 0) + 1
        if balancer_of[j] != balancer_of[j + 1]:
            pairs += 1
            same += chosen[j] == chosen[j + 1]
    total = sum(counts.values())
    expected = sum((c / total) ** 2 for c in counts.values())
    return same / pairs / expected if pairs and expected else math.nan


def run(
    scenario: Scenario, policies: tuple[str, ...], n: int, args: argparse.Namespace
) -> tuple[dict[str, dict[str, object]], float]:
    """Every policy in ``policies`` and the oracle on the same workload: figures, arrival rate."""
    rate = args.utilisation * capacity(scenario, args.slots)
    work = workload(scenario, n, rate, args.seed)
    weights = None
    if args.capacity_weights:
        weights = tuple(1.0 / s for s in scenario.slowdown)
    results = {}
    for name in (*policies, "oracle"):
        k = 1 if name == "oracle" else args.balancers[0]
        latency, chosen = simulate(
            scenario,
            name,
            work,
            args.slots,
            args.seed,
            weights,
            k,
            None,
            args.shared_inflight or bool(args.shared_learned),
            args.shared_learned,
        )
        results[name] = summarise(latency, chosen, n // 10)
    return results, rate


def overhead(
    policy: str, rounds: int, workers: int = 1, learned: frozenset[str] = frozenset()
) -> float:
    """Microseconds per acquire + release on a pool of five upstreams (real clock); with
    ``workers`` > 1 the pool shares its in-flight counts in a block of that many rows (the
    others' rows idle, so the policy sees the same counts and makes the same picks: the
    difference is the cost of reading and writing the block), and with ``learned`` p2c_ewma's
    models too (publishing on each release, reading and combining each compared upstream's
    rows when one changed)."""
    pool = Pool(
        [Upstream(f"r{i}", "127.0.0.1", 9000 + i) for i in range(5)],
        PoolSettings(policy=policy),
        rng=random.Random(1),
    )
    if workers > 1:
        pool.share(SharedInFlight(local_block(workers, [f"r{i}" for i in range(5)]), 0), learned)
    held: deque[Upstream] = deque()
    now = 0.0
    started = time.process_time()  # CPU time: less disturbed by the shared machine
    for k in range(rounds):
        now += 0.001
        upstream = pool.acquire(now)
        assert upstream is not None
        held.append(upstream)
        if len(held) > 8:  # keep some in flight, as a proxy under load does
            done = held.popleft()
            pool.release(done, now, outcome=Outcome.OK, latency=0.05 + 0.01 * (k % 7))
    return (time.process_time() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 requests per policy")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--utilisation", type=float, default=0.8)
    parser.add_argument("--slots", type=int, default=4, help="concurrent requests per replica")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--scenario", choices=list(SCENARIOS), default=next(iter(SCENARIOS)), help="full table"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="only p2c_ewma and the oracle, every scenario, each of --seeds (p99 / oracle)",
    )
    parser.add_argument("--seeds", default="1,2,3", help="seeds of --sweep, comma-separated")
    parser.add_argument(
        "--balancers",
        default="1",
        help="independent balancers sharing the replicas (K); --sweep takes a list, e.g. 1,2,4",
    )
    parser.add_argument(
        "--policies",
        default="p2c_ewma",
        help=f"policies of --sweep, comma-separated, or 'all' ({','.join(SUMMARY)})",
    )
    parser.add_argument(
        "--shared-inflight",
        action="store_true",
        help="the K balancers share their in-flight counts (workers of one vigil balance)",
    )
    parser.add_argument(
        "--shared-learned",
        default=None,
        metavar="PARTS",
        help="the K balancers share in-flight counts and these parts of p2c_ewma's models "
        f"(comma-separated of {','.join(sorted(PARTS))}, or all: this branch's product); "
        "with --sweep a third column 'learned'",
    )
    parser.add_argument(
        "--capacity-weights",
        action="store_true",
        help="configure weights 1/slowdown (an operator who knows r3 is 3x slower)",
    )
    args = parser.parse_args()
    if not 0.0 < args.utilisation < 1.0 or args.slots < 1:
        parser.error("--utilisation must be in (0, 1) and --slots >= 1")
    n = args.requests or (20_000 if args.quick else 200_000)
    args.balancers = int_list(parser, "--balancers", args.balancers)
    if min(args.balancers) < 1:
        parser.error(f"--balancers {args.balancers}: each K must be >= 1")
    if not args.sweep and len(args.balancers) != 1:
        parser.error("--balancers: one K without --sweep (a list, e.g. 1,2,4, only with --sweep)")
    if args.shared_learned is not None:
        parts = PARTS if args.shared_learned == "all" else frozenset(args.shared_learned.split(","))
        if not parts or parts - PARTS:
            parser.error(
                f"--shared-learned {args.shared_learned!r}: comma-separated parts of "
                f"{','.join(sorted(PARTS))}, or all"
            )
        args.shared_learned = parts
    else:
        args.shared_learned = frozenset()
    args.policies = SUMMARY if args.policies == "all" else tuple(args.policies.split(","))
    unknown = [name for name in args.policies if name not in POLICIES]
    if unknown:
        parser.error(f"--policies: unknown {unknown}; choose from {', '.join(POLICIES)} or all")
    if args.sweep:
        sweep(n, args)
        return
    scenario = SCENARIOS[args.scenario]
    results, rate = run(scenario, POLICIES, n, args)
    console = Console(width=140)
    unstable = report(console, scenario, results, n, rate, args)
    others = {}
    for other in SCENARIOS.values():
        if other is not scenario:
            others[other.name] = run(other, SUMMARY, n, args)[0]
    ratios = summary(console, {scenario.name: results, **others}, args)
    rounds = 20_000 if args.quick else 200_000
    cost = {name: overhead(name, rounds) for name in ("round_robin", "p2c_ewma")}
    for name in ("round_robin", "p2c_ewma"):
        for k in (2, 4):
            cost[f"{name}_shared_{k}"] = overhead(name, rounds, workers=k)
    for k in (2, 4):
        cost[f"p2c_ewma_learned_{k}"] = overhead("p2c_ewma", rounds, workers=k, learned=PARTS)
    console.print(
        f"acquire + release, 5 upstreams: p2c_ewma {cost['p2c_ewma']:.1f} us, "
        f"round_robin {cost['round_robin']:.1f} us ({cost['p2c_ewma'] / cost['round_robin']:.2f}x)"
    )
    for name in ("round_robin", "p2c_ewma"):
        two, four = cost[f"{name}_shared_2"], cost[f"{name}_shared_4"]
        console.print(
            f"  {name} sharing in-flight counts (idle peers): 2 workers {two:.1f} us "
            f"(+{two - cost[name]:.1f}), 4 workers {four:.1f} us (+{four - cost[name]:.1f})"
        )
    two, four = cost["p2c_ewma_learned_2"], cost["p2c_ewma_learned_4"]
    console.print(
        f"  p2c_ewma sharing counts and learned models (idle peers): 2 workers {two:.1f} us "
        f"(+{two - cost['p2c_ewma']:.1f}), 4 workers {four:.1f} us (+{four - cost['p2c_ewma']:.1f})"
    )
    base, oracle, p2c = (float(results[k]["p99"]) for k in ("round_robin", "oracle", "p2c_ewma"))  # type: ignore[arg-type]
    line = {
        "bench": "balance_sim",
        "requests": n,
        "utilisation": args.utilisation,
        "slots": args.slots,
        "seed": args.seed,
        "scenario": scenario.name,
        "balancers": args.balancers[0],
        "shared_inflight": args.shared_inflight,
        "shared_learned": sorted(args.shared_learned),
        "capacity_weights": args.capacity_weights,
        "p99_ms": {k: round(float(v["p99"]) * 1000, 1) for k, v in results.items()},  # type: ignore[arg-type]
        "p50_ms": {k: round(float(v["p50"]) * 1000, 1) for k, v in results.items()},  # type: ignore[arg-type]
        "baseline": {"name": "round_robin", "p99_ms": round(base * 1000, 1)},
        "unstable": unstable,
        "p2c_p99_vs_baseline": round(p2c / base, 4),
        "p2c_p99_vs_oracle": round(p2c / oracle, 4),
        "p2c_p99_vs_oracle_by_scenario": ratios,
        "acquire_release_us": {k: round(v, 2) for k, v in cost.items()},
        "targets": {
            "p2c_p99_le_half_baseline": p2c <= 0.5 * base,
            "p2c_p99_within_15pct_of_oracle": p2c <= 1.15 * oracle,
        },
    }
    print(json.dumps(line))


SUMMARY = ("round_robin", "least_conn", "least_time", "p2c_ewma")
"""The policies run in every other scenario (the table of p99 / oracle per scenario)."""


def report(
    console: Console,
    scenario: Scenario,
    results: dict[str, dict[str, object]],
    n: int,
    rate: float,
    args: argparse.Namespace,
) -> dict[str, list[str]]:
    """The full table for one scenario; returns the unstable policies with why."""

    def p99(name: str) -> float:
        value = results[name]["p99"]
        assert isinstance(value, float)
        return value

    base, oracle = p99("round_robin"), p99("oracle")
    title = (
        f"{scenario.name}: {n} requests, {args.balancers[0]} balancer(s),"
        f" at {args.utilisation:.0%} of capacity ({rate:.0f} req/s),"
        f" {args.slots} slots per replica, speeds {'/'.join(f'{s:g}' for s in scenario.slowdown)}"
    )
    table = Table(title=title)
    for column in (
        "policy",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "mean ms",
        "p99/RR",
        "p99/oracle",
        "repeat",
        "% to r0/r1/r2/r3/r4",
    ):
        table.add_column(column, justify="left" if column.startswith(("policy", "%")) else "right")
    for name, figures in results.items():
        table.add_row(
            name,
            *(f"{float(figures[k]) * 1000:.0f}" for k in ("p50", "p99", "p999", "mean")),  # type: ignore[arg-type]
            f"{p99(name) / base:.3f}",
            f"{p99(name) / oracle:.3f}",
            f"{float(figures['repeat']):.3f}",  # type: ignore[arg-type]
            "/".join(f"{s * 100:.0f}" for s in figures["shares"]),  # type: ignore[attr-defined]
        )
    console.print(table)
    unstable = {}
    for name, figures in results.items():
        shares = figures["shares"]
        assert isinstance(shares, list)
        notes = overloaded(scenario, shares, rate, args.slots)
        if notes:
            unstable[name] = notes
            console.print(f"[yellow]{name}: unstable, {'; '.join(notes)}[/yellow]")
    return unstable


def summary(
    console: Console, by_scenario: dict[str, dict[str, dict[str, object]]], args: argparse.Namespace
) -> dict[str, float]:
    """p99 / oracle of each policy in each scenario; returns p2c's per scenario."""
    table = Table(
        title=f"p99 / oracle's p99 per scenario ({args.utilisation:.0%}, {args.slots} slots,"
        f" {args.balancers[0]} balancer(s))"
    )
    table.add_column("scenario", justify="left")
    table.add_column("oracle p99 ms", justify="right")
    for name in SUMMARY:
        table.add_column(name, justify="right")
    ratios = {}
    for scenario, results in by_scenario.items():
        oracle = float(results["oracle"]["p99"])  # type: ignore[arg-type]
        row = {k: float(results[k]["p99"]) / oracle for k in SUMMARY}  # type: ignore[arg-type]
        ratios[scenario] = round(row["p2c_ewma"], 4)
        table.add_row(scenario, f"{oracle * 1000:.0f}", *(f"{row[k]:.2f}" for k in SUMMARY))
    console.print(table)
    return ratios


def int_list(parser: argparse.ArgumentParser, flag: str, text: str) -> list[int]:
    """Comma-separated integers of ``flag``, or a parser error naming the flag and the fix."""
    try:
        return [int(item) for item in text.split(",")]
    except ValueError:
        parser.error(f"{flag} {text!r}: comma-separated integers, e.g. 1,2,4")


def sweep(n: int, args: argparse.Namespace) -> None:
    """p99 / the oracle's of each of ``--policies`` (default p2c_ewma) in every scenario, for
    each seed of ``--seeds`` and each K of ``--balancers``: a table per K, then one JSON line
    (the oracle, measured on the same arrivals, is the baseline; ``p2c_p99_vs_oracle`` is the
    first K's, as before the option existed)."""
    try:
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        raise SystemExit(f"--seeds {args.seeds!r}: comma-separated integers, e.g. 1,2,3") from None
    policies: tuple[str, ...] = args.policies
    variants = [(name, "") for name in policies]
    if args.shared_inflight:  # each policy again, its K pools sharing their in-flight counts
        variants += [(name, "shared") for name in policies]
    if args.shared_learned:  # and again, sharing p2c_ewma's models too
        variants += [(name, "learned") for name in policies]
    columns = [f"{name} {mode}" if mode else name for name, mode in variants]
    # ratios[K][policy][scenario] = p99 / oracle per seed; repeat likewise (share of repeats)
    ratios: dict[int, dict[str, dict[str, list[float]]]] = {}
    repeats: dict[int, dict[str, dict[str, list[float]]]] = {}
    oracle_ms: dict[str, list[float]] = {}
    oracle_repeat: dict[str, list[float]] = {}
    own_view: dict[int, dict[str, list[float]]] = {}  # the own-view oracle's p99 / oracle's
    herds: dict[int, dict[str, dict[str, list[float]]]] = {}  # herding() for K > 1
    for scenario in SCENARIOS.values():
        rate = args.utilisation * capacity(scenario, args.slots)
        for seed in seeds:
            work = workload(scenario, n, rate, seed)
            latency, chosen = simulate(scenario, "oracle", work, args.slots, seed)
            best = summarise(latency, chosen, n // 10)
            oracle = float(best["p99"])  # type: ignore[arg-type]
            oracle_repeat.setdefault(scenario.name, []).append(float(best["repeat"]))  # type: ignore[arg-type]
            oracle_ms.setdefault(scenario.name, []).append(round(oracle * 1000, 1))
            for k in args.balancers:
                if k > 1:  # at K = 1 it is the oracle
                    latency, chosen = simulate(
                        scenario, "oracle_own", work, args.slots, seed, None, k
                    )
                    own = float(summarise(latency, chosen, n // 10)["p99"])  # type: ignore[arg-type]
                else:
                    own = oracle
                by_own = own_view.setdefault(k, {}).setdefault(scenario.name, [])
                by_own.append(round(own / oracle, 4))
                for name, mode in variants:
                    label = f"{name} {mode}" if mode else name
                    if mode and k == 1:  # one balancer has no block: its own view is all
                        for table in (ratios, repeats):
                            done = table[k][name][scenario.name][-1]
                            table[k].setdefault(label, {}).setdefault(scenario.name, [])
                            table[k][label][scenario.name].append(done)
                        continue
                    sent_by = [0] * n
                    latency, chosen = simulate(
                        scenario,
                        name,
                        work,
                        args.slots,
                        seed,
                        None,
                        k,
                        sent_by,
                        bool(mode),
                        args.shared_learned if mode == "learned" else frozenset(),
                    )
                    figures = summarise(latency, chosen, n // 10)
                    if k > 1:
                        herd = herds.setdefault(k, {}).setdefault(label, {})
                        herd.setdefault(scenario.name, []).append(
                            round(herding(chosen, sent_by, n // 10), 3)
                        )
                    ratio = float(figures["p99"]) / oracle  # type: ignore[arg-type]
                    by_k = ratios.setdefault(k, {}).setdefault(label, {})
                    by_k.setdefault(scenario.name, []).append(round(ratio, 4))
                    seen = repeats.setdefault(k, {}).setdefault(label, {})
                    seen.setdefault(scenario.name, []).append(float(figures["repeat"]))  # type: ignore[arg-type]
    load = f"{n} requests, {args.utilisation:.0%}, {args.slots} slots"
    console = Console(width=200)
    for k in args.balancers:
        table = Table(title=f"p99 / oracle p99, seeds {seeds} ({load}, {k} balancer(s))")
        table.add_column("scenario", justify="left")
        for name in columns:
            table.add_column(name, justify="right")
        if "round_robin" in policies and "p2c_ewma" in policies:
            table.add_column("p2c / RR", justify="right")
        table.add_column("own-view oracle", justify="right")
        if "p2c_ewma" in policies:
            table.add_column("repeat p2c / oracle", justify="right")
            if k > 1:
                table.add_column("herding p2c", justify="right")
                if args.shared_inflight:
                    table.add_column("herding p2c shared", justify="right")
                if args.shared_learned:
                    table.add_column("herding p2c learned", justify="right")
        table.add_column("oracle p99 ms", justify="right")
        for scenario in SCENARIOS.values():
            row = [  # a diverging queue's ratio in whole numbers
                "/".join(
                    f"{r:.0f}" if r >= 100 else f"{r:.2f}" for r in ratios[k][p][scenario.name]
                )
                for p in columns
            ]
            if "round_robin" in policies and "p2c_ewma" in policies:
                pairs = zip(
                    ratios[k]["p2c_ewma"][scenario.name],
                    ratios[k]["round_robin"][scenario.name],
                    strict=True,
                )
                row.append("/".join(f"{a / b:.2f}" for a, b in pairs))
            row.append("/".join(f"{r:.2f}" for r in own_view[k][scenario.name]))
            if "p2c_ewma" in policies:
                mine = statistics.fmean(repeats[k]["p2c_ewma"][scenario.name])
                row.append(f"{mine:.3f} / {statistics.fmean(oracle_repeat[scenario.name]):.3f}")
                if k > 1:
                    row.append("/".join(f"{h:.2f}" for h in herds[k]["p2c_ewma"][scenario.name]))
                    if args.shared_inflight:
                        shared_herd = herds[k]["p2c_ewma shared"][scenario.name]
                        row.append("/".join(f"{h:.2f}" for h in shared_herd))
                    if args.shared_learned:
                        learned_herd = herds[k]["p2c_ewma learned"][scenario.name]
                        row.append("/".join(f"{h:.2f}" for h in learned_herd))
            row.append("/".join(f"{v:.0f}" for v in oracle_ms[scenario.name]))
            table.add_row(scenario.name, *row)
        console.print(table)
    first = ratios[args.balancers[0]].get("p2c_ewma", {})
    worst_by_k = {
        k: max(r for values in ratios[k]["p2c_ewma"].values() for r in values)
        for k in args.balancers
        if "p2c_ewma" in policies
    }
    worst = max(worst_by_k.values(), default=math.nan)
    shared_worst = {
        k: max(r for values in ratios[k]["p2c_ewma shared"].values() for r in values)
        for k in args.balancers
        if "p2c_ewma" in policies and args.shared_inflight
    }
    learned_worst = {
        k: max(r for values in ratios[k]["p2c_ewma learned"].values() for r in values)
        for k in args.balancers
        if "p2c_ewma" in policies and args.shared_learned
    }
    line = {
        "bench": "balance_sim_sweep",
        "requests": n,
        "utilisation": args.utilisation,
        "slots": args.slots,
        "seeds": seeds,
        "balancers": args.balancers,
        "policies": list(policies),
        "p2c_p99_vs_oracle": first,
        "baseline": {"name": "oracle", "p99_ms": oracle_ms},
        "oracle_repeat_share": {s: round(statistics.fmean(v), 4) for s, v in oracle_repeat.items()},
        "p99_vs_oracle_by_balancers": {str(k): v for k, v in ratios.items()},
        "own_view_oracle_p99_vs_oracle": {str(k): v for k, v in own_view.items()},
        "herding_by_balancers": {str(k): v for k, v in herds.items()},
        "repeat_share_by_balancers": {
            str(k): {
                p: {s: round(statistics.fmean(v), 4) for s, v in d.items()} for p, d in by.items()
            }
            for k, by in repeats.items()
        },
        "p2c_worst_by_balancers": {str(k): v for k, v in worst_by_k.items()},
        "shared_inflight": args.shared_inflight,
        "p2c_shared_worst_by_balancers": {str(k): v for k, v in shared_worst.items()},
        "shared_learned": sorted(args.shared_learned),
        "p2c_learned_worst_by_balancers": {str(k): v for k, v in learned_worst.items()},
        "worst": worst,
        "targets": {"p2c_p99_within_15pct_of_oracle": worst <= 1.15},
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
