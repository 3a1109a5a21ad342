"""``vigil detect FILE.csv`` end to end: the output contract, causality and bad input."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.is_dir():
    SHARED = Path("/work/shared")
NAB_FILE = SHARED / "data" / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"
RUN = "import sys, typer; from vigil.cli._detect import detect; typer.run(detect)"


def detect(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, str(path), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    return [line.split(",") for line in lines[1:]]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "series.csv"
    path.write_text(text)
    return path


@pytest.mark.skipif(not NAB_FILE.is_file(), reason="NAB data not present")
def test_a_row_scores_the_same_when_the_rows_after_it_are_removed(tmp_path: Path) -> None:
    lines = NAB_FILE.read_text().splitlines()[:2001]
    full = write(tmp_path, "\n".join(lines) + "\n")
    cut = tmp_path / "prefix.csv"
    cut.write_text("\n".join(lines[:1301]) + "\n")
    whole, prefix = rows(detect(full).stdout), rows(detect(cut).stdout)
    assert len(whole) == 2000 and len(prefix) == 1300
    assert prefix == whole[:1300]  # identical text, so identical floats


def test_each_data_row_gets_one_row_echoing_timestamp_and_value(tmp_path: Path) -> None:
    text = "timestamp,value\n" + "".join(
        f"2024-01-01 00:{i // 60:02d}:{i % 60:02d},{math.sin(i / 5):.4f}\n" for i in range(300)
    )
    out = rows(detect(write(tmp_path, text)).stdout)
    given = [line.split(",") for line in text.splitlines()[1:]]
    assert [r[:2] for r in out] == given
    assert all(0.0 <= float(r[2]) <= 1.0 for r in out)


def test_scores_are_printed_at_full_precision(tmp_path: Path) -> None:
    text = "timestamp,value\n" + "".join(f"{i * 60},{(i * 7) % 13}\n" for i in range(200))
    out = rows(detect(write(tmp_path, text)).stdout)
    assert all(repr(float(r[2])) == r[2] for r in out)


def test_bad_rows_are_reported_by_line_and_still_get_a_row(tmp_path: Path) -> None:
    good = [f"2024-01-01 00:{i:02d}:00,{i % 5}" for i in range(40)]
    bad = [
        "2024-01-01 01:00:00,NaN",  # line 42
        "2024-01-01 01:01:00,abc",  # line 43
        "2024-01-01 01:02:00,",  # line 44
        "not a time,3",  # line 45
        "2024-01-01 00:30:00,2",  # line 46: out of order
        "2024-01-01 00:30:00,2",  # line 47: out of order again
        "2024-01-05 00:00:00,1e308",  # line 48: a gap, and a huge value
        "2024-01-05 00:00:00,-inf",  # line 49: duplicate time, infinite value
    ]
    result = detect(write(tmp_path, "timestamp,value\n" + "\n".join(good + bad) + "\n"))
    assert result.returncode == 0
    out = rows(result.stdout)
    assert len(out) == len(good) + len(bad)
    scores = [float(r[2]) for r in out]
    assert all(0.0 <= s <= 1.0 for s in scores)  # no NaN (NaN fails every comparison)
    assert scores[40:44] == [0.0, 0.0, 0.0, 0.0]
    err = result.stderr
    for line in (42, 43, 44, 45, 46, 48, 49):
        assert f"series.csv:{line}:" in err
    assert "out of order" in err or "before the previous row" in err
    assert "gap" in err


def test_a_constant_series_scores_zero(tmp_path: Path) -> None:
    text = "timestamp,value\n" + "".join(f"{i * 60},42\n" for i in range(500))
    out = rows(detect(write(tmp_path, text)).stdout)
    assert {r[2] for r in out} == {"0.0"}


def test_a_missing_header_is_fatal_with_the_place_named(tmp_path: Path) -> None:
    result = detect(write(tmp_path, "2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\n"))
    assert result.returncode == 2
    assert "series.csv:1:" in result.stderr and "timestamp" in result.stderr
    assert result.stdout == ""


def test_a_missing_file_is_fatal(tmp_path: Path) -> None:
    result = detect(tmp_path / "nope.csv")
    assert result.returncode == 2
    assert "nope.csv" in result.stderr


def test_an_empty_file_is_fatal(tmp_path: Path) -> None:
    result = detect(write(tmp_path, ""))
    assert result.returncode == 2
    assert "empty" in result.stderr


def test_columns_are_found_by_name_and_blank_lines_skipped(tmp_path: Path) -> None:
    text = "value,timestamp\n1,2024-01-01 00:00:00\n\n2,2024-01-01 00:01:00\n"
    out = rows(detect(write(tmp_path, text)).stdout)
    assert [r[:2] for r in out] == [["2024-01-01 00:00:00", "1"], ["2024-01-01 00:01:00", "2"]]


def test_the_previous_default_detector_can_be_chosen_and_scores_differently(tmp_path: Path) -> None:
    text = "timestamp,value\n" + "".join(
        f"{i * 300},{10 + 5 * math.sin(i / 20) + (30 if i == 400 else 0)}\n" for i in range(500)
    )
    path = write(tmp_path, text)
    default = [float(r[2]) for r in rows(detect(path).stdout)]
    previous = [float(r[2]) for r in rows(detect(path, "--detector", "ensemble").stdout)]
    assert len(default) == len(previous) == 500
    assert default != previous
    assert default[400] > 0.9 and previous[400] > 0.9  # both see the spike


def test_an_unknown_detector_is_fatal_with_the_choices_named(tmp_path: Path) -> None:
    result = detect(write(tmp_path, "timestamp,value\n0,1\n"), "--detector", "magic")
    assert result.returncode == 2
    assert "'magic'" in result.stderr and "records" in result.stderr
    assert result.stdout == ""


def test_a_spreadsheet_csv_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts with a BOM: the header read '\ufefftimestamp' and was refused
    path = tmp_path / "excel.csv"
    path.write_bytes("timestamp,value\r\n1,5\r\n2,6\r\n".encode("utf-8-sig"))
    done = detect(path)
    assert done.returncode == 0, done.stderr
    assert [row[:2] for row in rows(done.stdout)] == [["1", "5"], ["2", "6"]]


def test_lines_are_numbered_in_the_file_when_blank_lines_come_before_the_header(
    tmp_path: Path,
) -> None:
    done = detect(write(tmp_path, "\n\ntimestamp,value\n1,5\n2,oops\n"))
    assert done.returncode == 0
    assert "series.csv:5: value 'oops' is not a finite number" in done.stderr  # not :3
    fatal = detect(write(tmp_path, "\n\ntime,val\n1,5\n"))
    assert fatal.returncode == 2
    assert "series.csv:3: expected a header" in fatal.stderr  # not :1


def test_a_field_holding_a_comma_or_a_quote_is_echoed_as_one_csv_field(tmp_path: Path) -> None:
    # echoed bare, '"Jan 1, 2020"' made its row five fields long: the output was not CSV
    done = detect(write(tmp_path, 'timestamp,value\n1,5\n"Jan 1, 2020","1,5"\n3,"say ""hi"""\n'))
    assert done.returncode == 0
    parsed = list(csv.reader(io.StringIO(done.stdout)))
    assert [len(row) for row in parsed] == [3, 3, 3, 3]
    echoed = [row[:2] for row in parsed[1:]]
    assert echoed == [["1", "5"], ["Jan 1, 2020", "1,5"], ["3", 'say "hi"']]


@pytest.mark.parametrize("detector", ["records", "ensemble"])
@pytest.mark.parametrize(("stamp", "row"), [("1e300", 300), ("-1e300", 0), ("1e30", 0)])
def test_a_timestamp_far_beyond_any_date_is_scored_without_a_crash(
    tmp_path: Path, detector: str, stamp: str, row: int
) -> None:
    # The day / week lag took the row's 5-minute bucket number into an int64 array:
    # OverflowError (int too big to convert), a traceback and no row after it.
    lines = [f"{1_700_000_000 + 300 * i},{10 + math.sin(i / 7):.4f}" for i in range(400)]
    lines[row] = f"{stamp},10.5"
    done = detect(
        write(tmp_path, "timestamp,value\n" + "\n".join(lines) + "\n"), "--detector", detector
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = rows(done.stdout)
    assert [r[:2] for r in out] == [line.split(",") for line in lines]
    assert all(0.0 <= float(r[2]) <= 1.0 for r in out)


def daily_series(days: int) -> list[str]:
    """A 5-minute series with a daily rhythm; on day 9 a flat morning at the day's mean level:
    every value inside the range, only unlike the same hours of the day before."""
    lines = []
    for i in range(days * 288):
        day, slot = divmod(i, 288)
        value = 10.0 if day == 9 and 60 <= slot < 150 else 10.0 + 5.0 * math.sin(slot / 288 * 6.283)
        stamp = f"{1_700_006_400 + 300 * i}"
        lines.append(f"{stamp},{value:.4f}")
    return lines


def test_one_far_ahead_timestamp_typo_does_not_stall_the_views_for_the_rest(
    tmp_path: Path,
) -> None:
    # A row dated 80 years ahead moved the detector's clock there: every later row was "before
    # the previous one" and fed at that instant, so the day / week views saw no time pass for
    # the rest of the file (the rows after it scored otherwise than without the typo).
    lines = daily_series(11)
    typo = 4 * 288 + 17
    value = lines[typo].split(",")[1]
    far = list(lines)
    far[typo] = f"{int(lines[typo].split(',')[0]) + 80 * 365 * 86400},{value}"
    # The reference: the same row at the previous row's time, which is where it must be scored.
    same = list(lines)
    same[typo] = f"{lines[typo - 1].split(',')[0]},{value}"
    got = detect(write(tmp_path, "timestamp,value\n" + "\n".join(far) + "\n"))
    assert got.returncode == 0, got.stderr[-2000:]
    (tmp_path / "ref").mkdir()
    ref = detect(write(tmp_path / "ref", "timestamp,value\n" + "\n".join(same) + "\n"))
    assert f"series.csv:{typo + 2}:" in got.stderr  # the line of the typo, header is line 1
    assert "before the previous row" not in got.stderr  # the rows after it are not held back
    scores = [r[2] for r in rows(got.stdout)]
    assert scores == [r[2] for r in rows(ref.stdout)]
    day9 = [float(s) for s in scores[9 * 288 : 10 * 288]]
    assert max(day9) > 0.5  # the flat morning is seen


def test_a_stream_that_resumes_after_a_long_outage_moves_on_after_one_held_row(
    tmp_path: Path,
) -> None:
    lines = [f"{1_700_000_000 + 300 * i},{10 + math.sin(i / 7):.4f}" for i in range(600)]
    outage = 30 * 86400
    lines[300:] = [f"{int(x.split(',')[0]) + outage},{x.split(',')[1]}" for x in lines[300:]]
    got = detect(write(tmp_path, "timestamp,value\n" + "\n".join(lines) + "\n"))
    assert got.returncode == 0, got.stderr[-2000:]
    assert "series.csv:302:" in got.stderr  # the first row after it is held and reported
    assert "series.csv:303: gap of" in got.stderr  # the next one follows on: the jump is real
    assert "before the previous row" not in got.stderr
    assert len(rows(got.stdout)) == 600


@pytest.mark.parametrize("typo", [0, 1])
def test_a_timestamp_typo_in_the_first_or_second_row_is_named_and_the_rest_is_scored(
    tmp_path: Path, typo: int
) -> None:
    # The first two rows have no usual step to judge a jump by: a typo there moved the clock 80
    # years ahead, and every later row was fed at that instant ("before the previous row"), so
    # the day / week views saw no time pass in the whole file. Now the detector restarts at the
    # second row that follows on behind it, and scores the rest as a file starting there would.
    lines = daily_series(11)
    stamp, value = lines[typo].split(",")
    bad = list(lines)
    bad[typo] = f"{int(stamp) + 80 * 365 * 86400},{value}"
    got = detect(write(tmp_path, "timestamp,value\n" + "\n".join(bad) + "\n"))
    assert got.returncode == 0, got.stderr[-2000:]
    restart = typo + 2  # the second row after the typo, 0-based
    (tmp_path / "ref").mkdir()
    ref = detect(write(tmp_path / "ref", "timestamp,value\n" + "\n".join(lines[restart:]) + "\n"))
    assert f"series.csv:{restart + 2}: line(s) {typo + 2} (" in got.stderr, got.stderr
    assert "the detector restarts" in got.stderr
    assert got.stderr.count("before the previous row") == 1  # the one row before the restart
    scores = [r[2] for r in rows(got.stdout)]
    assert len(scores) == len(lines)
    assert scores[restart:] == [r[2] for r in rows(ref.stdout)]
    day9 = [float(s) for s in scores[9 * 288 : 10 * 288]]
    assert max(day9) > 0.5  # the flat morning is seen


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("timestmap,value", "; rename 'timestmap' to 'timestamp'"),
        ("time,val", "; rename 'time' to 'timestamp' and 'val' to 'value'"),
        ("2024-01-01 00:00:00,5", "; this looks like a data row: add the line 'timestamp,value'"),
        ("timestamp;value", "; separate the columns with commas"),
    ],
)
def test_a_refused_header_says_what_is_most_likely_wrong(
    tmp_path: Path, header: str, hint: str
) -> None:
    got = detect(write(tmp_path, f"{header}\n2024-01-01 00:05:00,6\n"))
    assert got.returncode == 2 and got.stdout == ""
    assert "series.csv:1: expected a header naming" in got.stderr, got.stderr
    assert hint in got.stderr, got.stderr


def test_a_huge_bad_cell_is_cut_short_in_its_warning(tmp_path: Path) -> None:
    # a value of 100,000 digits (not a double) was echoed whole: one 100 kB line of stderr
    huge = "9" * 100_000
    got = detect(write(tmp_path, f"timestamp,value\n1,{huge}\nx{huge},1\n"))
    assert got.returncode == 0, got.stderr[-2000:]
    value, stamp = (line.split("/")[-1] for line in got.stderr.splitlines())
    assert value == (
        f"series.csv:2: value {'9' * 60!r}... (100,000 characters) is not a finite number: "
        "score 0, row not learned"
    )
    assert stamp == (
        f"series.csv:3: timestamp {'x' + '9' * 59!r}... (100,001 characters) unreadable: score 0"
    )
    assert rows(got.stdout)[0][1] == huge  # the rows themselves are echoed as given


def test_a_control_character_in_a_cell_is_bad_input_named_by_line_and_column(
    tmp_path: Path,
) -> None:
    # Python's fromisoformat reads "2024-01-01 00:00:05\x00": the row was scored and the NUL
    # echoed into the output CSV.
    good = [f"2024-01-01 00:00:{i:02d},{i % 3}.0\n" for i in range(10)]
    good[5] = "2024-01-01 00:00:05\x00,2.0\n"
    good[7] = "2024-01-01 00:00:07,1\x1b.0\n"
    result = detect(write(tmp_path, "timestamp,value\n" + "".join(good)))
    assert result.returncode == 0, result.stderr
    assert "\x00" not in result.stdout and "\x1b" not in result.stdout
    out = rows(result.stdout)
    assert len(out) == 10
    assert out[5] == ["2024-01-01 00:00:05", "2.0", "0.0"]
    assert out[7] == ["2024-01-01 00:00:07", "1.0", "0.0"]
    assert "series.csv:7: column 1 (timestamp):" in result.stderr, result.stderr
    assert "'\\x00' at position 20" in result.stderr, result.stderr
    assert "series.csv:9: column 2 (value):" in result.stderr, result.stderr
