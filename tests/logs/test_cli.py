from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from vigil.cli._logs import logs_app

CMD = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]


def test_parse_prints_one_json_object_per_line_in_order() -> None:
    lines = [
        b"Invalid user bob from 1.2.3.4",
        b"",
        b"\xff\x00 junk",
        b"x" * (1 << 20),
        b"Invalid user amy from 1.2.3.5\r",
    ]
    out = subprocess.run(CMD, input=b"\n".join(lines) + b"\n", capture_output=True, check=True)
    rows = [json.loads(r) for r in out.stdout.decode().splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["cluster"] == rows[4]["cluster"]
    assert rows[4]["template"] == "Invalid user <*> from <*>"


def test_parse_streams_each_answer_before_the_input_ends() -> None:
    proc = subprocess.Popen(CMD, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"first line 1\n")
    proc.stdin.flush()
    first = proc.stdout.readline()  # would hang if parse waited for the end of input
    proc.stdin.close()
    proc.wait(timeout=30)
    assert json.loads(first)["template"] == "first line <*>"


def test_parse_with_a_format_and_state_keeps_ids(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("2024-01-01 10:00:00 INFO: worker 1 up\n2024-01-01 10:00:01 INFO: disk full\n")
    state = tmp_path / "state.json"
    args = [
        "parse",
        str(log),
        "--log-format",
        "<Date> <Time> <Level>: <Content>",
        "--state",
        str(state),
    ]
    first = CliRunner().invoke(logs_app, args)
    second = CliRunner().invoke(logs_app, args)
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.stdout == second.stdout
    assert (
        json.loads(first.stdout.splitlines()[0])["template"]
        == "<*> <*>:<*>:<*> INFO: worker <*> up"
    )


def test_bad_file_and_bad_format_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = CliRunner().invoke(logs_app, ["parse", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2
    log = tmp_path / "a.log"
    log.write_text("x\n")
    bad = CliRunner().invoke(logs_app, ["parse", str(log), "--log-format", "<Date>"])
    assert bad.exit_code == 2


def test_templates_shows_a_table_most_frequent_first(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("rare event\n" + "job 1 done\n" * 3)
    out = CliRunner().invoke(logs_app, ["templates", str(log)])
    assert out.exit_code == 0
    assert out.stdout.index("job <*> done") < out.stdout.index("rare event")


def test_templates_shows_lines_with_square_brackets_as_written(tmp_path: Path) -> None:
    # '[/]' in a line was read as a Rich closing tag: a MarkupError traceback, no table.
    log = tmp_path / "a.log"
    log.write_text("shard [/] failed: [bold] no\n")
    argv = [sys.executable, "-m", "vigil", "logs", "templates", str(log)]
    out = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("shard [/] failed: [bold] no") == 2  # template and example


def test_templates_with_state_counts_the_lines_of_every_run(tmp_path: Path) -> None:
    # The title gave this run's lines (4) over counts that include the saved runs (6 + 2).
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    log.write_text("rare event\n" + "job 1 done\n" * 3)
    args = ["templates", str(log), "--state", str(state)]
    CliRunner().invoke(logs_app, args)
    out = CliRunner().invoke(logs_app, args, env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "2 templates in 8 lines (4 read by this run)" in out.stdout
    row = next(line for line in out.stdout.splitlines() if "job <*> done" in line)
    assert row.split("│")[2].strip() == "6"  # the count column: both runs
    helped = CliRunner().invoke(logs_app, ["templates", "--help"], env={"COLUMNS": "200"})
    assert "saved runs" in helped.stdout
