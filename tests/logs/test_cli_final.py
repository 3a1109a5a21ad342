"""``vigil logs parse --final``: every line with its cluster's final id and template, against the
streaming output (each line's cluster as of that line), on a stream where a later line merges two
clusters and on the labelled fixtures (scored as ``test_fixtures.py`` scores, ids resolved at the
end). The CLI runs as a real process on a real file for the merge, in-process for the fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli._logs import logs_app

from .test_fixtures import ALL, FIXTURES, grouping_accuracy, load, score

CMD = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]

DISKS = [
    "2024-05-01 12:00:00 ERROR disk sda failed",
    "2024-05-01 12:00:01 ERROR disk sdb failed",  # a sibling of the first: a cluster of its own
    "2024-05-01 12:00:02 INFO worker 7 started",
    "2024-05-01 12:00:03 ERROR disk sdc failed",  # the slot's third value: the two are merged
    "2024-05-01 12:00:04 ERROR disk sdd failed",
]


def rows(args: list[str], log: Path) -> list[dict[str, object]]:
    out = subprocess.run([*CMD, *args, str(log)], capture_output=True, check=True)
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def test_final_groups_the_lines_before_a_merge_with_the_lines_after_it(tmp_path: Path) -> None:
    log = tmp_path / "disks.log"
    log.write_text("\n".join(DISKS) + "\n")
    # each line as of itself (--hold 0): the default holds it 4 lines, and takes this merge in
    streamed, final = rows(["--hold", "0"], log), rows(["--final"], log)
    assert len(streamed) == len(final) == len(DISKS)
    # streamed (unchanged): the second line keeps the id merged away, a group of its own
    ids = [r["cluster"] for r in streamed]
    assert ids[1] != ids[0] == ids[3] == ids[4] and ids[2] not in (ids[0], ids[1])
    assert str(streamed[0]["template"]).endswith("disk sda failed")
    # final: the early lines are in the late lines' cluster, with its final template
    disks = [final[i] for i in (0, 1, 3, 4)]
    assert {r["cluster"] for r in disks} == {ids[3]}
    assert all(str(r["template"]).endswith("disk <*> failed") for r in disks)
    assert final[2] == streamed[2]  # a line no merge touched is printed as streamed
    assert [r["template"] for r in final[3:]] == [r["template"] for r in streamed[3:]]


def test_final_with_a_state_resolves_ids_merged_in_this_run(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    log.write_text("\n".join(DISKS[:2]) + "\n")
    first = rows(["--state", str(state)], log)
    assert first[0]["cluster"] != first[1]["cluster"]
    log.write_text("\n".join(DISKS) + "\n")
    again = rows(["--final", "--state", str(state)], log)
    assert {again[i]["cluster"] for i in (0, 1, 3, 4)} == {first[0]["cluster"]}


def cli_ids(path: Path, *args: str) -> list[int]:
    result = CliRunner().invoke(logs_app, ["parse", *args, str(path)])
    assert result.exit_code == 0, result.output
    return [json.loads(line)["cluster"] for line in result.stdout.splitlines()]


@pytest.mark.parametrize("name", ALL)
def test_final_gives_the_fixture_scores_grouping(name: str, tmp_path: Path) -> None:
    truth, raw = load(name)
    path = FIXTURES / f"{name}.tsv"
    log = tmp_path / path.name
    log.write_text("\n".join(raw) + "\n", encoding="utf-8")
    final = cli_ids(log, "--final")
    assert len(final) == len(truth)
    assert grouping_accuracy(truth, final) == score(name)[0]
