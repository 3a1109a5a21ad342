"""How much of an agent batch's template the burst detector may count: its backlog is no burst.

Called by :class:`vigil.daemon._logs.LogPipeline` for each template of an agent batch. The edge
miner (:class:`vigil.collectors.LogEdge`) counts a template's lines from its ``first_at`` to its
``last_at`` (the agent's clock) and ships every ``ship_every``; while the controller is out of
reach it keeps reading, so the batch sent on reconnection spans the whole outage. Counted whole
in the bucket of its arrival, a minute of an ordinary rate was six buckets' worth in one: a
false burst. A template that spans more than a batch normally does is a backlog: the burst
detector counts only the share of its lines logged in the last ``ship_every`` (the lines taken
as spread evenly over the span, all that a batch tells), the rest is counted by every other
analysis but judged by none (as the controller's own files read after its restart are not:
:class:`vigil.daemon._logs_state.LocalSource`). A real burst at the end of a backlog is diluted
by the span (a twelfth of it is judged at 1 minute), so only a large one is still seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def backlog_share(count: int, item: Mapping[str, Any], window: float, ship_every: float) -> int:
    """The lines of ``item`` (a batch's template: ``first_at``, ``last_at``) to judge for a
    burst now: all of them when it spans at most ``window`` seconds (a batch on time), else
    the share of its ``count`` that fell in the last ``ship_every`` seconds of its span."""
    span = float(item.get("last_at", 0.0)) - float(item.get("first_at", 0.0))
    if not span > window:  # also NaN-safe: the API refuses non-finite times anyway
        return count
    return round(count * ship_every / span)
