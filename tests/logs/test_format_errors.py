"""A bad ``--log-format`` is refused with one line that names the place and the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vigil.logs import LogFormat, LogFormatError

CLI = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]


@pytest.mark.parametrize(
    ("spec", "place"),
    [
        ("<Date>[ <Content>", "'[ ' after <Date>"),
        ("<Date> <Time>( <Content>", "'( ' after <Time>"),
        ("(<Content>", "'(' before <Content>"),
        ("<Date> <Content>)", "')' after <Content>"),
    ],
)
def test_a_regular_expression_error_names_the_text_of_the_format_where_it_is(
    spec: str, place: str
) -> None:
    with pytest.raises(LogFormatError) as err:
        LogFormat(spec)
    message = str(err.value)
    assert place in message, message
    assert "position" not in message  # a position in the regex built from it, not in the format
    assert "backslash" in message  # the fix


@pytest.mark.parametrize("spec", ["<Date> <Time> <Level>: <Content> <Extra", "<Date> <Time"])
def test_a_field_left_open_is_refused_not_taken_for_text(spec: str) -> None:
    """Taken for text, ``<Extra`` made the format match no line: every line was mined whole,
    header and all, with no word of warning."""
    name = spec.rsplit("<", 1)[1]
    with pytest.raises(LogFormatError, match=f"<{name} is not closed: write <{name}>"):
        LogFormat(spec)


def test_the_cli_refuses_a_bad_format_with_one_line_and_exit_2() -> None:
    out = subprocess.run(
        [*CLI, "--log-format", "<Date> <Level <Content>"],
        input=b"2024-01-01 INFO x\n",
        capture_output=True,
        check=False,
    )
    assert out.returncode == 2
    assert out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "<Level is not closed: write <Level>" in lines[0]
