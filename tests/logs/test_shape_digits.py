"""Header rules ask only *whether* a character is a digit, never *which* one.

The raw-line cache of :mod:`vigil.logs._parser` keys lines by their shape (every digit as
``0``) and reuses the first line's split for every later line of that shape. A header rule that
looks at a digit's value (a Unix time "starting with 1 or 2") splits two lines of one shape
differently, and the cached split is then wrong for the second line. These tests hold every
fixture line to the rule and pin the two cases that broke it (a bracketed Unix time and a
cluster event log's Unix time, both once required to start with ``1`` or ``2``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.logs._detect import detect_header
from vigil.logs._parser import LineParser

FIXTURES = Path(__file__).parent / "fixtures"
_ROTATE = str.maketrans("123456789", "456789123")
"""Every digit but ``0`` to another: the hexadecimal prefix ``0x`` is the one digit rules read
literally (``0x7f3a``), and ``3x7f3a`` is no program's output."""


def _raw_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(FIXTURES.rglob("*.tsv")):
        for row in path.read_text(encoding="utf-8").splitlines():
            if "\t" in row:
                lines.append(row.split("\t", 1)[1])
    return lines


def test_every_fixture_line_splits_where_its_digit_rotated_twin_does() -> None:
    lines = _raw_lines()
    assert len(lines) > 1000
    differ = [
        line
        for line in lines
        if detect_header(line)[0] != detect_header(line.translate(_ROTATE))[0]
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # a bracketed Unix time: "[1764416299]" and "[3764416299]" have one shape
        ("[1764416299] sched: job 12 done", "[3764416299] sched: job 48 done"),
        ("[3764416299] sched: job 12 done", "[1764416299] sched: job 48 done"),
        # a cluster event log's header: record number, fields, Unix time, flag
        (
            "12 node-3 unix.hw state_change.unavailable 1764416299 1 Component State Change",
            "48 node-7 unix.hw state_change.unavailable 2764416299 1 Component State Change",
        ),
    ],
)
def test_lines_of_one_shape_get_the_split_of_an_uncached_parse(first: str, second: str) -> None:
    cached = LineParser()
    cached.parse(first)
    got = cached.parse(second)
    fresh = LineParser().parse(second)
    assert (got[0].template, got[1]) == (fresh[0].template, fresh[1])
    assert detect_header(first)[0] == detect_header(second)[0]
