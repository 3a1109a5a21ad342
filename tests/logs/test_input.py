from __future__ import annotations

from vigil.logs import LineSplitter
from vigil.logs._input import TRUNCATED_MARKER, InputStats


def _all(data: bytes, max_bytes: int = 1 << 16, step: int = 7) -> tuple[list[str], LineSplitter]:
    s = LineSplitter(max_bytes)
    out: list[str] = []
    for i in range(0, len(data), step):
        out.extend(s.feed(data[i : i + step]))
    out.extend(s.close())
    return out, s


def test_every_input_line_gives_exactly_one_line() -> None:
    data = b"a\r\n\n\xff\xfe bad\n\x00nul\nlast-without-newline"
    lines, s = _all(data)
    assert lines == ["a", "", "\ufffd\ufffd bad", " nul", "last-without-newline"]
    assert (s.stats.crlf, s.stats.empty, s.stats.invalid_utf8, s.stats.control_chars) == (
        1,
        1,
        1,
        1,
    )


def test_a_1_mb_line_is_truncated_with_a_marker_and_the_next_line_survives() -> None:
    data = b"x" * (1 << 20) + b"\nnext\n"
    lines, s = _all(data, max_bytes=1000, step=4096)
    assert lines == ["x" * 1000 + TRUNCATED_MARKER, "next"]
    assert s.stats.truncated == 1


def test_a_line_given_whole_stays_one_line_its_ending_dropped_and_inner_newlines_repaired() -> None:
    splitter = LineSplitter(max_bytes=16)
    out = [
        splitter.line(text)
        for text in ("plain", "ends\n", "crlf\r\n", "a\nb\nc", "\n", "x" * 20 + "\ny", "")
    ]
    assert out == ["plain", "ends", "crlf", "a b c", "", "x" * 16 + TRUNCATED_MARKER, ""]
    assert splitter.stats == InputStats(
        lines=7, empty=2, invalid_utf8=0, control_chars=2, truncated=1, crlf=1
    )


def test_a_line_cut_in_the_middle_of_a_character_is_not_counted_as_invalid_utf8() -> None:
    """Truncation cuts at a byte count; the character it splits is dropped whole, not
    replaced and reported as bad input the line never held."""
    data = "€".encode() * 40 + b"\n" + "aé".encode() + "é".encode() * 60 + b"\n"
    for step in (1, 7, 4096):
        lines, s = _all(data, max_bytes=100, step=step)
        assert lines == ["€" * 33 + TRUNCATED_MARKER, "a" + "é" * 49 + TRUNCATED_MARKER], step
        assert (s.stats.truncated, s.stats.invalid_utf8) == (2, 0), step
    lines, s = _all(b"ab\xff" + b"c" * 200 + b"\n", max_bytes=100)
    assert s.stats.invalid_utf8 == 1  # bad bytes inside the kept head still count
