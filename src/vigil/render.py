"""Rich renderings shared by ``vigil status``, ``vigil incidents`` and the demo's live view."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

STYLE = {
    "up": "green",
    "healthy": "green",
    "running": "green",
    "resolved": "green",
    "suspect": "yellow",
    "pending": "yellow",
    "remediating": "yellow",
    "stopping": "yellow",
    "open": "red",
    "down": "red",
    "unhealthy": "red",
    "failed": "bold red",
    "exited": "red",
    "escalated": "bold red",
    "stopped": "dim",
    "unknown": "dim",
}


def badge(value: str) -> Text:
    return Text(value, style=STYLE.get(value, ""))


def ago(at: float | None, now: float | None = None) -> str:
    if at is None:
        return "-"
    delta = (now or time.time()) - at
    return f"{delta:.1f}s ago" if delta < 120 else f"{delta / 60:.0f}m ago"


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def nodes_table(nodes: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="Nodes", title_justify="left", expand=False)
    for col in ("node", "status", "phi", "last heartbeat"):
        table.add_column(col)
    for n in nodes:
        table.add_row(
            n["name"], badge(n["status"]), f"{n.get('phi', 0):.1f}", ago(n.get("last_heartbeat"))
        )
    return table


def replicas_table(replicas: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="Replicas", title_justify="left")
    for col in ("replica", "node", "state", "pid", "port", "live", "ready", "restarts"):
        table.add_column(col)
    for r in replicas:
        table.add_row(
            r["id"],
            r["node"],
            badge(r["state"]),
            str(r.get("pid") or "-"),
            str(r["port"]),
            badge(r["live"]),
            badge(r["ready"]),
            str(r["restarts"]),
        )
    return table


def incidents_table(incidents: Iterable[Mapping[str, Any]], title: str = "Incidents") -> Table:
    table = Table(title=title, title_justify="left")
    for col in (
        "id",
        "subject",
        "kind",
        "state",
        "detected",
        "1st action",
        "recovered in",
        "summary",
    ):
        table.add_column(col, overflow="fold")
    for i in incidents:
        detected = i["detected_at"]
        first = i.get("first_action_at")
        resolved = i.get("resolved_at")
        table.add_row(
            str(i["id"]),
            i["subject"],
            i["kind"],
            badge(i["state"]),
            ago(detected),
            secs(first - detected if first else None),
            secs(resolved - detected if resolved else None),
            i["summary"],
        )
    return table


TOP_SERIES = {
    "cpu %": "host.cpu.used_pct",
    "mem %": "host.mem.used_pct",
    "load 1m": "host.load.1m",
    "disk %": "host.disk.used_pct",
    "net in B/s": "host.net.rx_bytes_per_s",
    "net out B/s": "host.net.tx_bytes_per_s",
}
"""The columns of ``vigil top`` and the series behind them."""


def top_table(latest: Mapping[str, Any], columns: Mapping[str, str]) -> Table:
    """One row per node. Per-mount and per-interface series fold into one figure per node: the
    fullest disk, the sum of the interfaces' rates."""
    rows: dict[str, dict[str, float]] = {}
    for title, name in columns.items():
        for point in latest.get(name, []):
            node = point["labels"].get("node", "?")
            cell = rows.setdefault(node, {})
            value = float(point["value"])
            if name.startswith("host.net."):
                cell[title] = cell.get(title, 0.0) + value
            else:
                cell[title] = max(cell.get(title, value), value)
    table = Table(title="Nodes (latest samples)", title_justify="left")
    table.add_column("node")
    for title in columns:
        table.add_column(title, justify="right")
    for node in sorted(rows):
        table.add_row(node, *(_fmt(rows[node].get(t)) for t in columns))
    return table


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:.1f}"
