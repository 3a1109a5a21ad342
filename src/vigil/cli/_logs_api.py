"""``vigil logs top`` and ``vigil logs findings``: the controller's log templates and findings.

Mounted on ``vigil logs`` by :mod:`vigil.cli._app`; both read the REST API
(``GET /api/v1/logs/templates`` and ``/api/v1/logs/findings``) as ``vigil status`` does, and
draw Rich tables. ``vigil logs findings --incident N`` lists the templates of one log incident,
most telling first (by ``P(fault | template)``); :func:`incident_templates` gives ``vigil
incidents`` the same for each log incident it shows.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vigil.cli._client import DEFAULT_URL, ApiClient, api_errors
from vigil.cli._numbers import finite

console = Console()

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help=f"Controller URL (or VIGIL_URL; default {DEFAULT_URL})."),
]
TokenOpt = Annotated[str | None, typer.Option("--token", help="API token (or VIGIL_TOKEN).")]
TEMPLATE_WIDTH = 80
LOG_KINDS = frozenset({"log_novelty", "log_burst", "log_association"})
MAX_LOG_INCIDENTS_SHOWN = 5
"""Log incidents of a ``vigil incidents`` page whose templates are listed (one request each)."""
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}


def _ago(at: float, now: float) -> str:
    seconds = max(0.0, now - at)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _short(text: str, width: int = TEMPLATE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def templates_table(items: list[dict[str, Any]], total: int, now: float) -> Table:
    table = Table(title=f"Log templates ({total} in all)", title_justify="left")
    for name in ("id", "count", "P(fault)", "family", "level", "last seen", "sources"):
        table.add_column(name, justify="right" if name in ("id", "count", "P(fault)") else "left")
    table.add_column("template", overflow="fold")
    for t in items:
        table.add_row(
            str(t["id"]),
            f"{t['count']:,}",
            f"{t['p_fault']:.2f}",
            str(t["family"]),
            Text(t["level"] or "-"),
            _ago(t["last_seen"], now),
            Text(", ".join(sorted(t["sources"]))[:40]),
            Text(_short(t["template"])),  # log text as written: its brackets are no markup
        )
    return table


def findings_table(items: list[dict[str, Any]], total: int, now: float) -> Table:
    table = Table(title=f"Log findings ({total} in all)", title_justify="left")
    for name in ("id", "when", "kind", "severity", "score", "P(fault)", "source", "incident"):
        table.add_column(name, justify="right" if name in ("id", "score", "P(fault)") else "left")
    table.add_column("summary", overflow="fold")
    for f in items:
        style = SEVERITY_STYLE.get(f["severity"], "")
        table.add_row(
            str(f["id"]),
            _ago(f["at"], now),
            f["kind"].removeprefix("log_"),
            f"[{style}]{f['severity']}[/{style}]" if style else f["severity"],
            f"{f['score']:.2f}",
            f"{f['p_fault']:.2f}",
            Text(f["source"]),
            str(f["incident_id"]) if f["incident_id"] is not None else "-",
            Text(_short(f["summary"], 100)),  # log text as written: its brackets are no markup
        )
    return table


def logs_top(
    url: UrlOpt = None,
    token: TokenOpt = None,
    sort: Annotated[
        str,
        typer.Option(
            help="Order by: count, last_seen, first_seen, p_fault (P(fault | template)) or id."
        ),
    ] = "count",
    source: Annotated[str | None, typer.Option(help="Only this node/source.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many templates to show.")] = 25,
) -> None:
    """The fleet's log templates: most frequent first (or by P(fault | template), recency)."""
    params: dict[str, object] = {"sort": sort, "limit": limit}
    if source:
        params["source"] = source
    client = ApiClient(url, token)
    with api_errors(client):
        page = client.get("/api/v1/logs/templates", **params)
        table = templates_table(page["items"], page["total"], time.time())
    console.print(table)


def logs_findings(
    url: UrlOpt = None,
    token: TokenOpt = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Only findings of this kind: log_novelty (a new template), log_burst or "
            "log_association (a template that precedes incidents). Default: all."
        ),
    ] = None,
    since: Annotated[
        float | None,
        typer.Option(help="Only the last this many seconds (>= 0).", parser=finite(min=0.0)),
    ] = None,
    incident: Annotated[
        int | None,
        typer.Option(help="Only this incident's findings, most telling template first."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=500, help="How many findings to show, newest first.")
    ] = 30,
) -> None:
    """Log findings, newest first: new templates, bursts, templates that precede incidents."""
    params: dict[str, object] = {"limit": limit}
    if kind:
        params["kind"] = kind
    if since is not None:
        params["since"] = time.time() - since
    if incident is not None:
        params["incident"] = incident
    client = ApiClient(url, token)
    with api_errors(client):
        page = client.get("/api/v1/logs/findings", **params)
        if incident is not None and not page["items"]:
            # an id that names no incident (a typo) is said so, exit 1, not shown as an empty
            # table like a real incident without log findings
            client.get(f"/api/v1/incidents/{incident}")
        items = page["items"]
        if incident is not None:
            items = sorted(items, key=lambda f: -f["p_fault"])
        table = findings_table(items, page["total"], time.time())
    console.print(table)


def incident_templates(client: ApiClient, incident: int, top: int = 3) -> str:
    """``0.82 CUDA out of memory…; 0.10 worker <*> started``: a log incident's templates, the
    most telling (highest ``P(fault | template)``) first, one of each."""
    page = client.get("/api/v1/logs/findings", incident=incident, limit=500)
    best: dict[int, tuple[float, str]] = {}
    for f in page["items"]:
        best[f["template_id"]] = (f["p_fault"], f["template"])
    ranked = sorted(best.values(), key=lambda pair: -pair[0])[:top]
    return "; ".join(f"{p:.2f} {_short(text, 60)}" for p, text in ranked)
