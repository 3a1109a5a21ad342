"""The shared Rich renderings: the incidents table fits its console, and a live view ends on a
new line when its output is a file (the demo's log, a pipe)."""

from __future__ import annotations

import io
import time

from rich.console import Console

from vigil.render import TOP_SERIES, WIDE, ago, incidents_table, live, top_table


def incidents() -> list[dict[str, object]]:
    """Two incidents, timed from now (the table shows how long ago each was detected)."""
    now = time.time()
    return [
        {
            "id": 4,
            "subject": "node:gpu-b",
            "kind": "node_suspect",
            "state": "resolved",
            "detected_at": now - 12.8,
            "first_action_at": now - 12.6,
            "resolved_at": now - 3.0,
            "summary": "node gpu-b down (no heartbeat for 1.7s (phi 10.6)); needs a person",
        },
        {
            "id": 2,
            "subject": "replica:llm/1",
            "kind": "readiness_failing",
            "state": "escalated",
            "detected_at": now - 27.0,
            "first_action_at": now - 26.5,
            "resolved_at": None,
            "summary": "llm/1 not ready: timed out after 0.5s",
        },
    ]


def rendered(width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(incidents_table(incidents()))
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def words(text: str) -> list[str]:
    """The cells' words, table borders dropped, in reading order."""
    return [w for w in text.split() if not set(w) <= set("│┃┏┓┗┛┡┩└┘┳┻╇━─┴┬┼")]


def test_at_80_columns_nothing_is_cut_and_no_short_value_is_broken() -> None:
    text = rendered(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    cells = words(text)
    for value in ("resolved", "escalated", "node:gpu-b", "replica:llm/1", "12.8s", "0.20s"):
        assert value in cells, value
    summary = " ".join(cells)
    for word in str(incidents()[0]["summary"]).split():
        assert word in summary


def test_a_wide_console_gets_a_column_per_field() -> None:
    text = rendered(WIDE + 10)
    header = next(line for line in text.splitlines() if "subject" in line)
    for column in ("kind", "detected", "1st action", "recovered", "summary"):
        assert column in header
    assert "readiness_failing" in text
    assert "timing" not in header
    narrow_header = next(line for line in rendered(80).splitlines() if "subject" in line)
    assert "kind" not in narrow_header and "timing" in narrow_header


def test_a_live_view_written_to_a_file_ends_its_last_frame_with_a_line_end() -> None:
    console = Console(file=io.StringIO(), width=60, color_system=None)
    with live(incidents_table(incidents()), console, refresh_per_second=4):
        pass
    console.print("AFTER")
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[-1] == "AFTER"
    assert lines[-2].startswith("└")


def test_how_long_ago_is_told_in_the_unit_that_reads() -> None:
    # an incident an Alertmanager alert reported as started 11 months before showed as
    # '480459m ago' in `vigil incidents`
    now = 1_000_000_000.0
    assert ago(now - 5.25, now) == "5.2s ago"
    assert ago(now - 600, now) == "10m ago"
    assert ago(now - 5 * 3600, now) == "5.0h ago"
    assert ago(now - 333 * 86400, now) == "333d ago"
    assert ago(now + 3, now) == "3.0s ahead"  # a clock ahead of this one, not '-3.0s ago'
    assert ago(None, now) == "-"


def test_top_with_no_samples_says_where_metrics_come_from() -> None:
    # `vigil top` on a controller no agent reports to printed an empty table and nothing else
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(top_table({}, TOP_SERIES))
    out = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert "no node has sent metrics yet: run `vigil agent --controller URL --name NODE`" in out
    latest = {"host.cpu.used_pct": [{"labels": {"node": "gpu-01"}, "value": 12.5}]}
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(top_table(latest, TOP_SERIES))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "gpu-01" in out and "12.5" in out and "no node has sent" not in out
