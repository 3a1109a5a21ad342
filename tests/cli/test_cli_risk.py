"""`vigil status` and `vigil top` show each node's failure risk from the controller's Markov
model (real `vigil up`, real subprocesses)."""

from __future__ import annotations

import pytest

from .conftest import VIEWER, Cli, Running


@pytest.mark.slow
def test_status_and_top_show_the_failure_risk_of_each_node(cli: Cli, running: Running) -> None:
    for command in (["status"], ["top", "--once"]):
        result = cli(*command, "--url", running.url, "--token", VIEWER, columns=200)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "Failure risk" in out, out
        assert "P(down within 1 h)" in out
        assert "transitions learned" in out
        rows = [line for line in out.splitlines() if line.strip("│ ").startswith("local")]
        # a model with nothing learned has no ground for a figure; one that learned shows it
        figure = "nothing learned yet" if "; 0 transitions" in " ".join(out.split()) else "%"
        assert any(line.rstrip(" │").endswith(figure) for line in rows), rows


@pytest.mark.slow
def test_status_shows_the_controllers_own_host_up_and_seen_without_an_agent(
    cli: Cli, running: Running
) -> None:
    # `local` read "unknown ... never" while its replicas ran, with no agent (none is needed)
    result = cli("status", "--url", running.url, "--token", VIEWER, columns=200)
    assert result.returncode == 0, result.stderr
    [row] = [
        line.split("│")[1:5]
        for line in result.stdout.split("Failure risk")[0].splitlines()
        if line.strip("│ ").startswith("local")
    ]
    assert [cell.strip() for cell in row][1] == "up", row
    assert row[3].strip().endswith("ago"), row
