"""A saved miner state that cannot be used is refused with one line, never a crash.

Issue 4 and the project's rule for bad input: a state file that is truncated, corrupted or
from another version gets a clear error naming the file and the fix, and is left as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vigil.logs import StateError, TemplateMiner, dumps, loads

CLI = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]


def _saved() -> dict[str, Any]:
    miner = TemplateMiner()
    for line in ("worker 1 started", "worker 2 started", "disk full on sda", "disk full on sdb"):
        miner.add(line)
    miner.add("disk full on sdc")
    data: dict[str, Any] = json.loads(dumps(miner))
    assert data["clusters"]
    return data


def _edit(change: Callable[[dict[str, Any]], object]) -> str:
    data = _saved()
    change(data)
    return json.dumps(data)


def _first(data: dict[str, Any]) -> dict[str, Any]:
    cluster: dict[str, Any] = data["clusters"][0]
    return cluster


BROKEN: dict[str, str | bytes] = {
    "levels shorter than words": _edit(lambda d: _first(d).update(levels=[0])),
    "runs longer than words": _edit(lambda d: _first(d).update(runs=[1] * 9)),
    "a level unknown": _edit(lambda d: _first(d).update(levels=[7] * len(_first(d)["words"]))),
    "a run of no word": _edit(lambda d: _first(d).update(runs=[0] * len(_first(d)["words"]))),
    "a pin past the words": _edit(lambda d: _first(d).update(pinned=[99])),
    "a remap cycle": _edit(lambda d: d.update(remap=[[7, 8], [8, 7]])),
    "a number too large": json.dumps(_saved()).replace('"lines": ', '"lines": 1e400, "x": '),
    "binary garbage": b"\xff\xfe\x00\x81garbage\x00",
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_state_is_refused_by_loads_with_a_state_error(name: str) -> None:
    text = BROKEN[name]
    with pytest.raises(StateError):
        loads(text)


@pytest.mark.parametrize("name", [*BROKEN, "truncated", "another version"])
def test_the_cli_refuses_a_broken_state_naming_the_file_and_the_fix(
    name: str, tmp_path: Path
) -> None:
    state = tmp_path / "miner.json"
    good = dumps(TemplateMiner()).encode()
    content = {"truncated": good[: len(good) // 2], "another version": b'{"version": 99}'}.get(
        name, BROKEN.get(name, b"")
    )
    before = content if isinstance(content, bytes) else content.encode()
    state.write_bytes(before)
    out = subprocess.run(
        [*CLI, "--state", str(state)],
        input=b"worker 3 started\n",
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr.decode()
    assert out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert str(state) in lines[0]
    assert "move it aside" in lines[0]
    assert state.read_bytes() == before  # not overwritten


def test_a_state_names_the_cluster_at_fault() -> None:
    fault = r"clusters\[0\] \(id 1\): 1 levels and 3 runs for 3 words"
    with pytest.raises(StateError, match=fault):
        loads(BROKEN["levels shorter than words"])
