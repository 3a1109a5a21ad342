"""Every float option of the ``vigil`` CLI refuses NaN and infinity as "not a number" (one
shared parser, :func:`vigil.cli._numbers.finite`), not with a range message about a bound."""

from __future__ import annotations

import typing
from collections.abc import Iterator

import pytest
import typer
from typer.models import OptionInfo

from vigil.cli._app import app
from vigil.cli._numbers import finite

from .conftest import Cli


def _float_options(group: typer.Typer, prefix: str = "") -> Iterator[tuple[str, OptionInfo]]:
    for command in group.registered_commands:
        assert command.callback is not None
        name = f"{prefix}{command.name or command.callback.__name__}"
        hints = typing.get_type_hints(command.callback, include_extras=True)
        for param, hint in hints.items():
            if typing.get_origin(hint) is not typing.Annotated:
                continue
            base, *extras = typing.get_args(hint)
            if float in (base, *typing.get_args(base)):
                [info] = [e for e in extras if isinstance(e, OptionInfo)]
                yield f"{name} {param}", info
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        yield from _float_options(sub.typer_instance, f"{prefix}{sub.name} ")


def test_every_float_option_goes_through_the_finite_parser() -> None:
    found = dict(_float_options(app))
    assert len(found) >= 6, found  # agent x3, top, demo, logs findings
    wrong = [name for name, info in found.items() if info.parser is None
             or info.parser.__qualname__ != finite().__qualname__]  # fmt: skip
    assert wrong == [], wrong


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
@pytest.mark.parametrize("bounds", [{"min": 0.5, "max": 86400.0}, {"min": 0.0}, {}])
def test_a_non_finite_value_is_not_a_number_whatever_the_bounds(
    value: str, bounds: dict[str, float]
) -> None:
    with pytest.raises(typer.BadParameter, match=r"is not a number: give a finite one"):
        finite(**bounds)(value)


def test_bounds_and_defaults() -> None:
    parse = finite(min=0.5, max=86400.0)
    assert parse("2") == 2.0 and parse(" 0.5 ") == 0.5 and parse(2.0) == 2.0
    with pytest.raises(typer.BadParameter, match=r"must be >= 0.5 \(got 0.1\)"):
        parse("0.1")
    with pytest.raises(typer.BadParameter, match=r"must be <= 86400 \(got 1e\+06\)"):
        parse("1e6")
    with pytest.raises(typer.BadParameter, match=r"'x' is not a number$"):
        parse("x")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["top", "--url", "http://127.0.0.1:9", "--once", "--every"], "--every"),
        (["demo", "--duration"], "--duration"),
        (["logs", "findings", "--url", "http://127.0.0.1:9", "--since"], "--since"),
        (["agent", "--controller", "http://127.0.0.1:9", "--name", "n1", "--no-metrics",
          "--interval"], "--interval"),
        (["agent", "--controller", "http://127.0.0.1:9", "--name", "n1", "--no-metrics",
          "--jitter"], "--jitter"),
    ],
    ids=["top-every", "demo-duration", "logs-since", "agent-interval", "agent-jitter"],
)  # fmt: skip
def test_nan_on_the_command_line_says_it_is_not_a_number(
    cli: Cli, args: list[str], option: str
) -> None:
    # `vigil top --every nan` said "should be less than or equal to 86400"
    done = cli(*args, "nan", columns=300, timeout=20)
    assert done.returncode == 2, done.stderr
    assert f"Invalid value for '{option}': 'nan' is not a number" in done.stderr, done.stderr
