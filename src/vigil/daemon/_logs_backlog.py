"""The time span of an agent batch's template when it is a backlog, on the controller's clock.

Called by :class:`vigil.daemon._logs.LogPipeline` for each template of an agent batch. The edge
miner (:class:`vigil.collectors.LogEdge`) counts a template's lines from its ``first_at`` to its
``last_at`` (the agent's clock) and ships every ``ship_every``; while the controller is out of
reach it keeps reading, so the batch sent on reconnection spans the whole outage. Counted whole
in the bucket of its arrival, a minute of an ordinary rate was six buckets' worth in one: a
false burst. A template that spans more than a batch on time does is a backlog: its lines go to
:meth:`vigil.logs.analysis.BurstDetector.backlog`, which counts them in the buckets of the time
they were logged and judges only those of the bucket of now (a batch tells a template's count
and its span, not each line's time: the lines are taken as spread evenly over the span).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def backlog_span(
    item: Mapping[str, Any], window: float, offset: float
) -> tuple[float, float] | None:
    """``item``'s (a batch's template: ``first_at``, ``last_at``) span moved to the controller's
    clock by ``offset`` (its receipt time less the batch's ``sent_at``), when it is longer than
    ``window`` seconds (a batch on time); else None."""
    first, last = float(item.get("first_at", 0.0)), float(item.get("last_at", 0.0))
    if not last - first > window:  # also False for NaN: the API refuses non-finite times
        return None
    return first + offset, last + offset
