"""The failure-risk table shows a figure only where the Markov model has learned something:
with no transition counted, its 0 % has no ground and reads as unknown."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from vigil.cli._risk import UNKNOWN, risk_table


def _row(node: str, probability: float, transitions: int) -> dict[str, Any]:
    return {
        "node": node,
        "state": "up",
        "probability": probability,
        "horizon": 3600.0,
        "transitions": transitions,
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
