"""The one parser of every float option of the ``vigil`` CLI: a finite number within a range.

Used by :mod:`vigil.cli._app` and :mod:`vigil.cli._logs_api` as ``typer.Option(parser=
finite(...))`` in place of Typer's ``min=``/``max=``. Python's ``float()`` reads ``nan``,
``inf`` and ``1e999``; Typer's range check then said "should be less than or equal to 86400"
of ``--every nan`` (NaN compares false to everything) or let a NaN or infinite ``--duration``
through. Typer no longer prints the range in ``--help`` (it knows no bounds): each option's
help says it. A test walks every command and checks each float option uses this parser.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import typer

FloatParser = Callable[[object], float]


def finite(*, min: float | None = None, max: float | None = None) -> FloatParser:
    """A parser for ``typer.Option(parser=...)``: the option's text as a finite float within
    ``[min, max]`` (either bound optional), or a :class:`typer.BadParameter` saying what is
    wrong, which Typer shows as ``Invalid value for '--every': ...`` (exit status 2)."""

    def parse(value: object) -> float:
        if isinstance(value, float | int) and not isinstance(value, bool):
            number = float(value)  # a default, already a number
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                raise typer.BadParameter(f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise typer.BadParameter(f"{value!r} is not a number: give a finite one")
        if min is not None and number < min:
            raise typer.BadParameter(f"must be >= {min:g} (got {number:g})")
        if max is not None and number > max:
            raise typer.BadParameter(f"must be <= {max:g} (got {number:g})")
        return number

    return parse
