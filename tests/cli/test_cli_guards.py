"""`vigil guards` prints each service's healing guards from a running `vigil up` (real
subprocesses, real API); a viewer's token reads it, no token is refused with the fix named."""

from __future__ import annotations

import pytest

from .conftest import VIEWER, Cli, Running


@pytest.mark.slow
def test_guards_prints_a_row_per_service_with_its_limits(cli: Cli, running: Running) -> None:
    result = cli("guards", "--url", running.url, "--token", VIEWER, columns=200)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Healing guards" in out, out
    [row] = [line for line in out.splitlines() if line.strip("│ ").startswith("llm")]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    # one replica, 25 % of it rounded up: one slot; the default rate and escalate_after
    assert cells == ["llm", "no", "0/1", "1/30 in 600s", "after 3", "-"], cells


@pytest.mark.slow
def test_guards_without_a_token_is_refused(cli: Cli, running: Running) -> None:
    result = cli("guards", "--url", running.url)
    assert result.returncode != 0
    assert "401" in result.stderr or "token" in result.stderr.lower(), result.stderr
