"""The controller's own log files across its restart: the lines written while it was down are
read at once when it is back; counted, they are no burst (as an agent's batch held back by an
outage is none). Run on the real pipeline: a file on disk, a SQLite store, a hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from _log_pipeline import Clock, pipeline
from vigil.daemon import LogPipeline
from vigil.store import SqlStore


def local(tmp_path: Path, store: SqlStore, clock: Clock) -> LogPipeline:
    settings = {
        "sources": [{"path": str(tmp_path / "app.log"), "format": "<Content>"}],
        "analysis": {"warmup_lines": 5, "warmup_seconds": 0},
    }
    return pipeline(tmp_path, store, clock, settings)


def writer(path: Path) -> Callable[[int], None]:
    served = 0

    def write(lines: int) -> None:
        nonlocal served
        with path.open("a", encoding="utf-8") as f:
            for _ in range(lines):
                f.write(f"served request {served} in 5 ms\n")
                served += 1

    return write


def bursts(logs: LogPipeline) -> list[str]:
    return [f["summary"] for f in logs.found if f["kind"] == "log_burst"]


async def test_the_lines_written_while_the_controller_was_down_are_no_burst(
    tmp_path: Path, store: SqlStore
) -> None:
    """Down two minutes at 5 lines a second: the 600 lines read on its first poll were called
    "log burst: 512 lines in 10s (10x the baseline 49.8)"."""
    (tmp_path / "app.log").write_text("")
    write, clock = writer(tmp_path / "app.log"), Clock()
    logs = local(tmp_path, store, clock)
    for _ in range(300):  # five minutes at 5 lines a second, polled every second
        write(5)
        clock.now += 1
        await logs.poll_local()
    logs.save_now()
    assert logs.registry.entries()[0].count == 1500 and bursts(logs) == []
    for _ in range(120):  # down two minutes; the service logs on
        write(5)
        clock.now += 1
    back = local(tmp_path, store, clock)
    for _ in range(30):
        write(5)
        clock.now += 1
        await back.poll_local()
    assert back.registry.entries()[0].count == 1500 + 600 + 150  # every line counted once
    assert bursts(back) == []
    write(500)  # a real burst once caught up is still one
    clock.now += 1
    await back.poll_local()
    assert len(bursts(back)) == 1
