"""The failure-risk table of ``vigil status`` and ``vigil top``: each node's chance of going
``down`` within the Markov model's horizon (``GET /api/v1/risk``), riskiest first.

Called by :mod:`vigil.cli._app`. A controller too old to serve the endpoint (HTTP 404) gives no
table rather than an error, so the rest of ``vigil status`` still prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

from vigil.cli._client import ApiClient
from vigil.errors import VigilError

WARN, ALERT = 0.05, 0.25
"""Probabilities shown yellow and red: a 1-in-20 chance within the horizon deserves a look."""
UNKNOWN = "—, nothing learned yet"
"""The figure of a model that has counted no transition: its 0 % has no ground, so none is shown."""
NEVER_LEFT = "—, never seen to leave {state}"
"""The figure of a state the model never saw left (``left`` 0): its 0 % comes from the counts
it lacks (the state is absorbing in the estimate), so none is shown. ``down`` keeps its 100 %."""


def fetch_risk(client: ApiClient) -> list[Mapping[str, Any]] | None:
    """The risk rows, or None when the controller has no risk endpoint."""
    try:
        rows: list[Mapping[str, Any]] = client.get("/api/v1/risk")
    except VigilError as exc:
        if "HTTP 404" in str(exc):
            return None
        raise
    return rows


def _horizon(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def risk_table(rows: Iterable[Mapping[str, Any]]) -> Table:
    rows = list(rows)
    horizon = _horizon(float(rows[0]["horizon"])) if rows else "?"
    learned = int(rows[0]["transitions"]) if rows else 0
    table = Table(
        title="Failure risk",
        title_justify="left",
        caption=f"Markov model of node states; {learned} transitions learned",
        caption_justify="left",
    )
    for col in ("node", "now", f"P(down within {horizon})"):
        table.add_column(col)
    for row in rows:
        if learned == 0:
            table.add_row(row["node"], row["state"], f"[dim]{UNKNOWN}[/dim]")
            continue
        if row.get("left") == 0 and row["state"] != "down":  # absent: an older controller
            table.add_row(row["node"], row["state"], f"[dim]{NEVER_LEFT.format_map(row)}[/dim]")
            continue
        p = float(row["probability"])
        style = "red" if p >= ALERT else "yellow" if p >= WARN else "green"
        table.add_row(row["node"], row["state"], f"[{style}]{100 * p:.1f} %[/{style}]")
    return table
