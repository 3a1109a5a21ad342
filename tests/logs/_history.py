"""A synthetic log history for the association and Bayes tests: a template planted before every
incident among noise and a rare template, replayed in time order into anything that takes
``occurrence(template_id, at)`` and ``incident(subject, at)``."""

from __future__ import annotations

import random
from typing import Protocol

PLANTED, NOISE, RARE = 1, 2, 3


class Learner(Protocol):
    def occurrence(self, template_id: int, at: float) -> object: ...
    def incident(self, subject: str, at: float) -> object: ...


def replay_history(
    learner: Learner, *, seed: int, noise_every: float, rare: int, hours: int = 48
) -> float:
    """Noise lines every ~``noise_every`` s for ``hours``; an incident every ~2 h, each preceded
    by the planted template 30-120 s before it; ``rare`` lines of a rare template at random
    times. Returns the end time."""
    rng = random.Random(seed)
    events: list[tuple[float, str, int]] = []
    end = hours * 3600.0
    t = 0.0
    while t < end:
        events.append((t, "line", NOISE))
        t += rng.expovariate(1 / noise_every)
    for _ in range(rare):
        events.append((rng.uniform(0, end), "line", RARE))
    incident = 1800.0
    while incident < end:
        events.append((incident - rng.uniform(30, 120), "line", PLANTED))
        events.append((incident, "incident", 0))
        incident += rng.uniform(1.5, 2.5) * 3600
    for at, kind, tid in sorted(events):
        if kind == "line":
            learner.occurrence(tid, at)
        else:
            learner.incident("replica:llm/0", at)
    return end
