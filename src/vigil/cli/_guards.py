"""``vigil guards``: each service's healing guards and what they hold now, as a table
(``GET /api/v1/remediation/guards``).

Called by :mod:`vigil.cli._app` (the ``guards`` command). One row per service: dry-run, the
blast-radius slots taken of its limit (which replica Vigil is restarting, for how much longer),
the automatic actions within the rate window, ``escalate_after`` with the replicas counting
towards it (``!`` marks one escalated), and the maintenance windows (open ones first, with the
time left).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.markup import escape
from rich.table import Table


def _left(until: float, now: float) -> str:
    seconds = max(0.0, until - now)
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def guards_table(rows: Iterable[Mapping[str, Any]], now: float) -> Table:
    table = Table(title="Healing guards", title_justify="left")
    for col in ("service", "dry-run", "restarting", "rate", "never live", "windows"):
        table.add_column(col)
    for row in rows:
        slots = row["slots"]
        restarting = f"{len(slots)}/{row['unavailable_limit']}"
        if slots:
            restarting += " " + ", ".join(
                f"{escape(s['replica'])} ({_left(float(s['until']), now)})" for s in slots
            )
        rate = f"{row['recent_actions']}/{row['rate_actions']} in {float(row['rate_window']):g}s"
        counts = ", ".join(
            f"{escape(n['replica'])} {n['restarts']}{'!' if n['escalated'] else ''}"
            for n in row["never_live"]
        )
        never = f"after {row['escalate_after']}" + (f": {counts}" if counts else "")
        windows = sorted(row["windows"], key=lambda w: w["open_until"] is None)
        shown = ", ".join(
            f"[yellow]{escape(w['window'])} open, {_left(float(w['open_until']), now)} left"
            "[/yellow]"
            if w["open_until"] is not None
            else escape(w["window"])
            for w in windows
        )
        table.add_row(
            escape(row["service"]),
            "[yellow]yes[/yellow]" if row["dry_run"] else "no",
            restarting,
            rate,
            never,
            shown or "-",
        )
    return table
