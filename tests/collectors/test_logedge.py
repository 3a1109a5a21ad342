"""LogEdge on real files: batches of templates + counts, a frozen batch survives a crash and is
sent again unchanged, later lines are read once, memory stays bounded while the controller is
away, and a broken state file gives one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.collectors import EdgeSourceSpec, LogEdge
from vigil.errors import InputError


def edge(tmp_path: Path, **kw: object) -> LogEdge:
    spec = EdgeSourceSpec(str(tmp_path / "app.log"), "app")
    return LogEdge([spec], tmp_path / "state" / "logs-n1.json", clock=lambda: 100.0, **kw)


def write(tmp_path: Path, lines: list[str]) -> None:
    with (tmp_path / "app.log").open("a") as f:
        f.writelines(f"{line}\n" for line in lines)


def counts(batch: dict) -> dict[str, int]:
    return {t["template"]: t["count"] for t in batch["templates"]}


def test_a_batch_holds_templates_counts_levels_and_a_few_samples(tmp_path: Path) -> None:
    write(tmp_path, [f"2024-05-01 12:00:0{i % 10} INFO worker {i} started" for i in range(12)])
    write(tmp_path, ["2024-05-01 12:00:09 ERROR GPU 3 fell off the bus", ""])
    one = edge(tmp_path, samples=2)
    assert one.poll() == 14
    batch = one.batch()
    assert batch is not None and batch["seq"] == 1
    assert counts(batch) == {"worker <*> started": 12, "GPU <*> fell off the bus": 1}
    worker = batch["templates"][0]
    assert worker["level"] == "INFO"
    assert worker["samples"] == [
        "2024-05-01 12:00:00 INFO worker 0 started",
        "2024-05-01 12:00:01 INFO worker 1 started",
    ]
    assert batch["stats"] == {
        "app": {
            "lines": 14,
            "empty": 1,
            "invalid_utf8": 0,
            "control_chars": 0,
            "truncated": 0,
            "crlf": 0,
            "overflow": 0,
        }
    }
    assert one.batch() is batch  # not acknowledged: the same batch again
    one.acked()
    assert one.batch() is None  # nothing new


def test_an_unacknowledged_batch_is_sent_again_after_a_crash_and_lines_are_read_once(
    tmp_path: Path,
) -> None:
    write(tmp_path, [f"request {i} done" for i in range(50)])
    first = edge(tmp_path)
    first.poll()
    frozen = first.batch()
    write(tmp_path, [f"request {i} done" for i in range(50, 80)])
    first.poll()  # read, counted in memory only, then the process dies
    del first

    again = edge(tmp_path)
    assert again.batch() == frozen  # same agent id and seq: the controller drops a duplicate
    again.acked()
    again.poll()
    second = again.batch()
    assert second is not None
    assert (second["agent_id"], second["seq"]) == (frozen["agent_id"], frozen["seq"] + 1)
    assert counts(second) == {"request <*> done": 30}


def test_while_the_controller_is_away_counts_grow_but_templates_stay_bounded(
    tmp_path: Path,
) -> None:
    one = edge(tmp_path, max_templates=3)
    write(tmp_path, ["alpha 1", "beta gamma 2"])
    one.poll()
    pending = one.batch()  # never acknowledged
    words = ["kappa", "lambda", "omega", "sigma", "theta", "delta", "zeta", "iota", "rho"]
    for round_ in range(5):
        write(tmp_path, [f"alpha {round_}"] * 100 + [f"{w} {round_} happened" for w in words[:5]])
        one.poll()
        assert one.batch() is pending
    one.acked()
    nxt = one.batch()
    assert nxt is not None
    got = counts(nxt)
    assert got["alpha <*>"] == 500
    assert len(got) == 3
    assert nxt["stats"]["app"]["lines"] == 525
    assert sum(got.values()) + nxt["stats"]["app"]["overflow"] == 525


def test_a_corrupt_state_file_is_named_with_the_fix(tmp_path: Path) -> None:
    state = tmp_path / "state" / "logs-n1.json"
    state.parent.mkdir()
    state.write_text("{nope")
    with pytest.raises(InputError, match=r"logs-n1.json: not a log state file .* move it away"):
        edge(tmp_path)
