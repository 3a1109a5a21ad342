"""A stop of the controller while its log pipeline reads one of its own files (the read runs in
a thread) loses none of the lines that read took: they are mined before the state is saved.
A real file, a real pipeline on a real SQLite store; the read is held in its thread until the
stop has arrived."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from _log_pipeline import counted_after_the_stop, local_file_pipelines
from vigil.collectors import TailedLine
from vigil.store import SqlStore

HELD_AT_MOST = 10.0
"""Seconds the held read waits for the test: only a guard against hanging, never a measure."""


async def test_a_stop_during_the_read_of_a_local_file_loses_none_of_its_lines(
    tmp_path: Path, store: SqlStore
) -> None:
    # the task was cancelled at `await asyncio.to_thread(tailer.read)`: the thread went on, its
    # read moved the file's offset past 2,000 lines that nobody mined, and the state saved on
    # the way out pointed past them: after the restart they were never counted
    restarted = local_file_pipelines(tmp_path, store, 2000)
    first = restarted()
    tailer = first.local[0].tailer
    read, entered, release = tailer.read, threading.Event(), threading.Event()

    def held_read() -> list[TailedLine]:
        lines = read()
        entered.set()
        release.wait(HELD_AT_MOST)  # the stop arrives while the thread holds the lines
        return lines

    tailer.read = held_read  # type: ignore[method-assign]
    polling = asyncio.create_task(first.poll_local())
    assert await asyncio.to_thread(entered.wait, HELD_AT_MOST)
    polling.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await counted_after_the_stop(polling, first, restarted) == 2000
