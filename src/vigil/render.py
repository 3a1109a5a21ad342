"""Rich renderings shared by ``vigil status``, ``vigil incidents`` and the demo's live view."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live
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
    """How long before ``now`` ``at`` was, in the unit that reads: an incident an alert
    reported as started 11 months ago showed '480459m ago'."""
    if at is None:
        return "-"
    delta = (time.time() if now is None else now) - at
    if delta < 0:  # a sender's clock ahead of this one
        return f"{-delta:.1f}s ahead" if delta > -120 else f"{-delta / 60:.0f}m ahead"
    if delta < 120:
        return f"{delta:.1f}s ago"
    if delta < 2 * 3600:
        return f"{delta / 60:.0f}m ago"
    if delta < 2 * 86400:
        return f"{delta / 3600:.1f}h ago"
    return f"{delta / 86400:.0f}d ago"


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


WIDE: int = 110
"""Console width from which the incidents table gets a column per timing and one for the kind."""


class IncidentsTable:
    """The incidents as a table that fits its console: at :data:`WIDE` columns and more, a column
    per field; narrower (80 is common), the three timings share one cell and the kind is left to
    the summary, which keeps the room to be read. Rich asks for the width when it renders."""

    def __init__(self, incidents: Iterable[Mapping[str, Any]], title: str) -> None:
        self.incidents = list(incidents)
        self.title = title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(wide=options.max_width >= WIDE)

    def table(self, *, wide: bool) -> Table:
        table = Table(title=self.title, title_justify="left")
        table.add_column("id", no_wrap=True)
        table.add_column("subject", overflow="fold", max_width=24)
        if wide:
            table.add_column("kind", overflow="fold", max_width=20)
        table.add_column("state", no_wrap=True)
        timings = ("detected", "1st action", "recovered") if wide else ("timing",)
        for col in timings:
            table.add_column(col, no_wrap=True)
        table.add_column("summary", ratio=1)
        for i in self.incidents:
            detected = i["detected_at"]
            first = i.get("first_action_at")
            resolved = i.get("resolved_at")
            acted = secs(first - detected if first else None)
            recovered = secs(resolved - detected if resolved else None)
            head: list[str | Text] = [str(i["id"]), Text(i["subject"])]
            head += [i["kind"]] if wide else []
            if wide:
                times = [ago(detected), acted, recovered]
            else:
                times = [f"{ago(detected)}\nacted {acted}\nrecovered {recovered}"]
            # a log incident's summary quotes the log: its brackets are no Rich markup
            table.add_row(*head, badge(i["state"]), *times, Text(i["summary"]))
        return table


@contextlib.contextmanager
def live(
    renderable: RenderableType, console: Console, *, refresh_per_second: float
) -> Iterator[Live]:
    """Rich's ``Live`` that leaves the console on a new line. Writing to a file or a pipe, Rich
    (15.0) prints the last frame without a line end, and the next output ran on into its last
    line (``└──┘Demo summary``)."""
    with Live(renderable, console=console, refresh_per_second=refresh_per_second) as view:
        yield view
    if not console.is_terminal:
        console.line()


def incidents_table(
    incidents: Iterable[Mapping[str, Any]], title: str = "Incidents"
) -> IncidentsTable:
    return IncidentsTable(incidents, title)


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
    if not rows:  # an empty table alone read as "vigil top is broken"
        table.caption = (
            "no node has sent metrics yet: run `vigil agent --controller URL --name NODE` on "
            "each node (it pushes them unless --no-metrics), or scrape exporters (metrics.scrape)"
        )
    return table


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:.1f}"
