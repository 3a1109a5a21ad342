"""Each line's answer held back a few lines (:mod:`vigil.logs._holdback`), so that a merge made
by those lines is in it: the pure core on a merge of the sibling rule, and ``vigil logs parse``
printing it, as a real process and on the labelled fixtures whose streamed ids split a group."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli._logs import logs_app
from vigil.logs import TemplateMiner
from vigil.logs._holdback import HOLD_LINES, Holdback

from .test_fixtures import grouping_accuracy, held, load, score

DISKS = [
    "disk sda failed on controller",
    "disk sdb failed on controller",  # a sibling of the first: a cluster of its own, for now
    "worker started in pool",
    "disk sdc failed on controller",  # the slot's third value: the two are merged (line 4)
    "disk sdd failed on controller",
]


def hold_lines(contents: list[str], lines: int, batch: int = 1) -> list[tuple[int, str, str]]:
    """The answers a Holdback of ``lines`` lets out, the lines mined ``batch`` at a time."""
    miner = TemplateMiner()
    holdback = Holdback(miner, lines)
    out = []
    for start in range(0, len(contents), batch):
        answers = []
        for content in contents[start : start + batch]:
            cluster = miner.cluster_of(content)
            answers.append((cluster, "", cluster.template))
        out += holdback.push(answers)
    return [(c.id, prefix, template) for c, prefix, template in out + holdback.release()]


def test_a_line_held_until_its_cluster_is_merged_is_printed_with_the_survivor() -> None:
    ids = [cid for cid, _, _ in hold_lines(DISKS, 2)]  # line 2 waits for line 4, the merge
    assert ids[0] == ids[1] == ids[3] == ids[4] != ids[2]


def test_a_merge_later_than_the_hold_leaves_the_earlier_line_its_own_id() -> None:
    ids = [cid for cid, _, _ in hold_lines(DISKS, 1)]  # line 2 out at line 3: before the merge
    assert ids[1] != ids[0] == ids[3] == ids[4]
    assert [cid for cid, _, _ in hold_lines(DISKS, 0)] == ids


def test_a_merged_line_gets_the_merging_lines_template_and_others_their_own() -> None:
    out = hold_lines(DISKS, 2)
    assert out[0][2] == "disk sda failed on controller"  # out at line 3, no merge yet for it
    assert out[1][2] == out[3][2] == "disk <*> failed on controller"  # the merge of line 4


def test_the_answers_do_not_depend_on_how_the_lines_came_in_batches() -> None:
    one_by_one = hold_lines(DISKS * 3, HOLD_LINES)
    for batch in (2, 3, 7, 100):
        assert hold_lines(DISKS * 3, HOLD_LINES, batch) == one_by_one


def test_release_lets_every_held_answer_out_as_of_the_lines_so_far() -> None:
    miner = TemplateMiner()
    holdback = Holdback(miner, 10)
    for content in DISKS[:2]:
        cluster = miner.cluster_of(content)
        assert holdback.push([(cluster, "", cluster.template)]) == []
    assert holdback.held == 2
    first = holdback.release()
    assert [c.id for c, _, _ in first] == [1, 2] and holdback.held == 0
    assert holdback.release() == []


def test_a_negative_hold_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"lines: must be >= 0 \(got -1\)"):
        Holdback(TemplateMiner(), -1)


CMD = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]


def test_the_cli_prints_the_sibling_with_the_survivors_id(tmp_path: Path) -> None:
    log = tmp_path / "disks.log"
    log.write_text("".join(f"2024-05-01 12:00:0{i} ERROR {d}\n" for i, d in enumerate(DISKS)))
    runs = {}
    for hold in ("4", "0"):
        out = subprocess.run([*CMD, "--hold", hold, str(log)], capture_output=True, check=True)
        runs[hold] = [json.loads(line)["cluster"] for line in out.stdout.splitlines()]
    assert runs["4"][0] == runs["4"][1] == runs["4"][3] != runs["4"][2]
    assert runs["0"][0] != runs["0"][1]  # as of itself: the id merged away at line 4


def test_the_cli_refuses_a_negative_hold(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = CliRunner().invoke(logs_app, ["parse", "--hold", "-1", str(log)])
    assert result.exit_code == 2
    assert "Invalid value for '--hold'" in result.output
    assert "greater than or equal to 0" in result.output


# fixtures whose ids as of each line split a group that the resolved ids keep whole: merged 1,
# 1 and 4 lines after the split line (``docs/benchmarks.md``, "Ids as lines arrive")
SOON = ["holdout8/bird", "holdout12/traefik", "holdout2/cassandra"]


@pytest.mark.parametrize("name", SOON)
def test_the_cli_prints_what_the_streaming_score_scores(name: str, tmp_path: Path) -> None:
    raw = load(name)[1]
    log = tmp_path / "fixture.log"
    log.write_text("\n".join(raw) + "\n", encoding="utf-8")
    result = CliRunner().invoke(logs_app, ["parse", str(log)])
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["cluster"] for line in result.stdout.splitlines()]
    assert ids == held(name)[0]


def test_holding_a_few_lines_gives_the_resolved_grouping_where_the_merge_comes_soon() -> None:
    for name in SOON:
        if name == "holdout12/traefik":
            # its providers ("*file.Provider" / "*traefik.Provider") are sibling names since
            # gather18: one cluster from the second line, no merge to wait for
            assert score(name, hold=0)[0] == score(name)[0] == 1.0
            continue
        assert score(name, hold=0)[0] < score(name)[0] == score(name, hold=HOLD_LINES)[0] == 1.0
    assert grouping_accuracy(load(SOON[0])[0], held(SOON[0], hold=1)[0]) == 1.0


def test_a_live_tail_sees_each_answer_without_more_lines_coming() -> None:
    """Input idle: the held answers go out (IDLE_RELEASE_SECONDS), not 4 lines later; the 60 s
    bound only keeps a broken release from hanging the suite."""
    proc = subprocess.Popen([*CMD, "--hold", "4"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for content in DISKS[:2]:
            proc.stdin.write(f"2024-05-01 12:00:00 ERROR {content}\n".encode())
            proc.stdin.flush()
            assert select.select([proc.stdout], [], [], 60)[0], "no answer while input is idle"
            row = json.loads(proc.stdout.readline())
            assert str(row["template"]).endswith(content)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
