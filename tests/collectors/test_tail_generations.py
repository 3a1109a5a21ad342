"""FileTailer when more than one rotation happens between two reads (or while Vigil is down):
the generations in between, never seen at the log's own name, are read whole, in order, once."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from vigil.collectors import FileTailer, TailedLine, TailState

TICK = 0.01
"""File timestamps move by clock ticks: see tests/collectors/test_tail.py."""


class Log:
    """A writer that keeps its file open in append mode, like a logging process."""

    def __init__(self, path: Path, tag: str) -> None:
        self.path = path
        self.file = path.open("ab", buffering=0)
        self.tag = tag
        self.written: list[str] = []

    def lines(self, count: int, what: str = "") -> None:
        for _ in range(count):
            text = f"{self.tag}{what} {len(self.written) + 1} of its generation, some payload"
            self.file.write(text.encode() + b"\n")
            self.written.append(text)


def texts(batch: list[TailedLine]) -> list[str]:
    return [line.text for line in batch]


def rotate(path: Path, keep: int = 5) -> None:
    """logrotate's numbered scheme: ``path.N`` -> ``path.N+1``, ..., ``path`` -> ``path.1``."""
    for n in range(keep - 1, 0, -1):
        if Path(f"{path}.{n}").exists():
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")
    os.replace(path, f"{path}.1")


def copytruncate(path: Path, keep: int = 5) -> None:
    for n in range(keep - 1, 0, -1):
        if Path(f"{path}.{n}").exists():
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")
    shutil.copyfile(path, f"{path}.1")
    with path.open("r+b") as file:
        file.truncate(0)


def restarted(tailer: FileTailer, path: Path) -> FileTailer:
    saved = tailer.state().to_dict()
    tailer.close()
    return FileTailer(path, state=TailState.from_dict(saved))


def started(tmp_path: Path, count: int) -> tuple[Path, Log, FileTailer, list[str]]:
    """app.log with generation ``a`` of ``count`` lines, a tailer on it, and its first read."""
    path = tmp_path / "app.log"
    a = Log(path, "a")
    tailer = FileTailer(path)
    a.lines(count)
    return path, a, tailer, texts(tailer.read())


def renamed(path: Path, tag: str, count: int, keep: int = 5) -> Log:
    """Rotate ``path`` by renaming; the next generation ``tag`` writes ``count`` lines there."""
    rotate(path, keep)
    log = Log(path, tag)
    log.lines(count)
    return log


def copied(log: Log, tag: str, count: int, what: str = "") -> None:
    """Copytruncate ``log``'s file; its writer goes on as generation ``tag``, ``count`` lines."""
    copytruncate(log.path)
    log.tag = tag
    log.lines(count, what)


def test_two_rename_rotations_between_two_reads_read_the_middle_file_whole(
    tmp_path: Path,
) -> None:
    path, a, tailer, got = started(tmp_path, 3)
    a.lines(2, " unread")
    b = renamed(path, "b", 4)  # never seen at app.log: it is app.log.1 by the next read
    c = renamed(path, "c", 2)
    got += texts(tailer.read())
    c.lines(1, " later")
    got += texts(tailer.read())
    assert got == a.written + b.written + c.written


def test_three_rotations_between_two_reads_read_the_generations_oldest_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    old = Log(path, "old")
    old.lines(2)
    rotate(path)  # an older generation, read before the tailer started: not read
    a = Log(path, "a")
    a.lines(2)
    tailer = FileTailer(path)
    got = texts(tailer.read())
    logs = [a]
    for tag in ("b", "c", "d"):
        logs[-1].lines(1, " late")
        logs.append(renamed(path, tag, 3))
    got += texts(tailer.read())
    assert got == [line for log in logs for line in log.written]


def test_two_rotations_while_vigil_is_down_read_the_middle_file_after_the_restart(
    tmp_path: Path,
) -> None:
    path, a, tailer, got = started(tmp_path, 3)
    tailer = restarted(tailer, path)  # while it is down:
    a.lines(2, " unread")
    b = renamed(path, "b", 4)
    c = renamed(path, "c", 2)
    got += texts(tailer.read())
    assert got == a.written + b.written + c.written


def test_a_restart_between_the_two_rotations_reads_every_generation_once(
    tmp_path: Path,
) -> None:
    path, a, tailer, got = started(tmp_path, 3)
    b = renamed(path, "b", 2)
    got += texts(tailer.read())  # a finished, b read in part
    tailer = restarted(tailer, path)
    b.lines(2, " unread")
    c = renamed(path, "c", 2)
    got += texts(tailer.read())
    assert got == a.written + b.written + c.written


def test_two_copytruncates_between_two_reads_read_the_middle_copy_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    log = Log(path, "gen1")
    tailer = FileTailer(path)
    log.lines(3)
    got = texts(tailer.read())
    log.lines(2, " unread at the first copy")
    copied(log, "gen2", 3, " only in the second copy")
    copied(log, "gen3", 2)
    got += texts(tailer.read())
    assert got == log.written


def test_lines_read_between_the_copy_and_the_truncate_are_not_read_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    log = Log(path, "x")
    tailer = FileTailer(path)
    log.lines(3)
    got = texts(tailer.read())
    shutil.copyfile(path, f"{path}.1")
    log.lines(2, " after the copy, before the truncate")  # in neither file once truncated
    got += texts(tailer.read())  # ...but the tailer read them in time
    with path.open("r+b") as file:
        file.truncate(0)
    log.lines(2, " after the truncate")
    got += texts(tailer.read())
    assert got == log.written


def test_a_rotation_compressed_after_its_rename_is_finished_from_the_open_file(
    tmp_path: Path,
) -> None:
    """logrotate's ``compress`` (without ``delaycompress``): app.log.1 becomes app.log.1.gz and
    is unlinked, but the tailer holds it open and finishes it."""
    path, a, tailer, got = started(tmp_path, 2)
    a.lines(2, " unread")
    rotate(path)
    with open(f"{path}.1", "rb") as src, gzip.open(f"{path}.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.unlink(f"{path}.1")
    b = Log(path, "b")
    b.lines(2)
    got += texts(tailer.read())
    assert got == a.written + b.written


@pytest.mark.parametrize("seed", range(20))
def test_random_runs_of_rotations_between_reads_never_lose_or_repeat_a_line(
    tmp_path: Path, seed: int
) -> None:
    """Up to three rotations (rename or copytruncate, numbered) between two reads, sometimes a
    restart: what is read is exactly what was written."""
    rng = random.Random(seed)
    path = tmp_path / "app.log"
    writer = path.open("ab", buffering=0)
    written: list[str] = []

    def write(text: str) -> None:
        writer.write(text.encode() + b"\n")
        written.append(text)

    # not empty when first read: an empty file is known by its timestamp only, and one written,
    # copytruncated and renamed between two reads is not recovered (see the next test)
    write("the first line")
    tailer = FileTailer(path)
    got = texts(tailer.read())
    for step in range(30):
        for n in range(rng.randrange(1, 4)):
            write(f"step {step} line {n} " + "x" * rng.randrange(40))
        for r in range(rng.choice([0, 1, 2, 2, 3])):
            if rng.random() < 0.5:
                rotate(path)
                write(f"step {step} late {r}")  # before the writer reopens
                writer.close()
                writer = path.open("ab", buffering=0)
            else:
                copytruncate(path)
            write(f"step {step} after rotation {r}")
        if rng.random() < 0.3:
            tailer = restarted(tailer, path)
        got += texts(tailer.read())
    assert got == written


def test_an_empty_file_written_and_copytruncated_twice_while_down_reads_the_older_copy_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    log = Log(path, "gen1")
    tailer = FileTailer(path)
    assert tailer.read() == []
    time.sleep(TICK)
    tailer = restarted(tailer, path)
    log.lines(2)
    copied(log, "gen2", 2)  # both copies are newer than the empty file: the older one is ours
    copied(log, "gen3", 1)
    assert texts(tailer.read()) == log.written


def test_dateext_rotations_read_the_middle_file_and_no_other_newer_file(tmp_path: Path) -> None:
    path, a, tailer, got = started(tmp_path, 2)
    a.lines(1, " unread")
    os.replace(path, f"{path}-20240501")
    b = Log(path, "b")
    b.lines(3)
    os.replace(path, f"{path}-20240502")
    Path(f"{path}.pos").write_text("a shipper's position file, newer than the log\n")
    c = Log(path, "c")
    c.lines(1)
    got += texts(tailer.read())
    assert got == a.written + b.written + c.written


def test_a_restart_after_the_file_was_rotated_away_for_good_reads_the_files_after_it(
    tmp_path: Path,
) -> None:
    path, a, tailer, got = started(tmp_path, 3)
    tailer = restarted(tailer, path)  # while it is down, logrotate with `rotate 1`:
    time.sleep(TICK)
    b = renamed(path, "b", 3, keep=1)
    os.unlink(f"{path}.1")  # a is gone, with nothing unread in it
    c = renamed(path, "c", 2, keep=1)
    got += texts(tailer.read())
    assert got == a.written + b.written + c.written
