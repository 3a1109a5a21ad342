"""The failure-risk table shows a figure only where the Markov model has learned something:
with no transition counted, its 0 % has no ground and reads as unknown."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from vigil.cli._risk import UNKNOWN, risk_table


def _row(
    node: str, probability: float, transitions: int, *, state: str = "up", left: int = 1
) -> dict[str, Any]:
    return {
        "node": node,
        "state": state,
        "probability": probability,
        "horizon": 3600.0,
        "transitions": transitions,
        "left": left,
    }


def _render(rows: list[dict[str, Any]]) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(risk_table(rows))
    return " ".join(console.export_text().split())  # the caption wraps to the table's width


def test_a_model_that_learned_nothing_shows_no_percentage() -> None:
    out = _render([_row("local", 0.0, 0), _row("gpu1", 0.0, 0)])
    assert "0 transitions learned" in out
    assert "%" not in out, out
    assert out.count(" ".join(UNKNOWN.split())) == 2, out


def test_a_model_that_learned_shows_the_percentage() -> None:
    out = _render([_row("local", 0.125, 40), _row("gpu1", 0.0, 40)])
    assert "40 transitions learned" in out
    assert "12.5 %" in out and "0.0 %" in out, out
    assert UNKNOWN not in out


def test_a_state_the_model_never_saw_left_shows_no_percentage() -> None:
    # the model learned (up -> up for hours) but never saw a node leave up, or suspect: its
    # P(down) of 0 comes from the counts it lacks, and read "0.0 %" as if measured
    out = _render(
        [
            _row("local", 0.0, 7200, left=0),
            _row("gpu1", 0.0, 7200, state="suspect", left=0),
            _row("gpu2", 1.0, 7200, state="down", left=0),  # down is down: 100 %, ground or not
        ]
    )
    assert " 0.0 %" not in out, out
    assert "never seen to leave up" in out and "never seen to leave suspect" in out, out
    assert "100.0 %" in out, out


def test_an_older_controller_without_left_keeps_its_figures() -> None:
    row = _row("local", 0.0, 40)
    del row["left"]
    assert "0.0 %" in _render([row])
