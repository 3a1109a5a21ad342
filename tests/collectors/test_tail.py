"""FileTailer against real files: every line written is read exactly once, whatever happens to
the file (appends, partial lines, rename and copytruncate rotations, restarts, bad bytes)."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from vigil.collectors import FileTailer, TailedLine, TailState, TailStatus, follow
from vigil.errors import InputError
from vigil.logs._input import TRUNCATED_MARKER

TICK = 0.01
"""File timestamps move by clock ticks (a few ms); between two polls far more time passes. An
empty file is known only by its timestamp, so tests on one let a tick pass after the read."""


class Log:
    """A writer that keeps its file open in append mode, like a logging process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("ab", buffering=0)
        self.written: list[str] = []
        self._n = 0

    def lines(self, count: int, tag: str = "line") -> None:
        for _ in range(count):
            self._n += 1
            text = f"{tag} {self._n} of the log, some payload"
            self.file.write(text.encode() + b"\n")
            self.written.append(text)

    def reopen(self) -> None:
        self.file.close()
        self.file = self.path.open("ab", buffering=0)


def texts(batch: list[TailedLine]) -> list[str]:
    return [line.text for line in batch]


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "app.log")


def test_lines_appended_between_reads_are_each_read_once(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.lines(3)
    got = texts(tailer.read())
    assert tailer.read() == []
    log.lines(2)
    got += texts(tailer.read())
    assert got == log.written
    assert tailer.status is TailStatus.OK and tailer.problem is None


def test_each_line_carries_its_byte_offset_and_its_path(log: Log) -> None:
    log.file.write(b"ab\ncde\n")
    lines = FileTailer(log.path).read()
    assert lines == [TailedLine("ab", 0, str(log.path)), TailedLine("cde", 3, str(log.path))]


def test_a_partial_last_line_is_held_until_its_newline_arrives(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.file.write(b"first\nsec")
    assert texts(tailer.read()) == ["first"]
    assert tailer.read() == []
    log.file.write(b"ond half\n")
    assert texts(tailer.read()) == ["second half"]
    assert tailer.state().offset == len(b"first\nsecond half\n")


def test_rename_rotation_reads_the_old_file_to_its_end_then_the_new_one_from_zero(
    log: Log,
) -> None:
    tailer = FileTailer(log.path)
    log.lines(3, "old")
    got = texts(tailer.read())
    log.lines(2, "old")
    log.path.rename(f"{log.path}.1")
    log.lines(2, "old after the rename")  # the writer still holds the old file
    new = Log(log.path)
    new.lines(3, "new")
    got += texts(tailer.read())
    new.lines(1, "new")
    got += texts(tailer.read())
    assert got == log.written + new.written


def test_an_empty_new_file_keeps_the_old_one_followed_until_the_writer_switches(
    log: Log,
) -> None:
    tailer = FileTailer(log.path)
    log.lines(2)
    got = texts(tailer.read())
    log.lines(1)
    log.path.rename(f"{log.path}.1")
    log.path.touch()  # logrotate's "create", before the writer reopens
    got += texts(tailer.read())
    log.lines(2, "late")
    got += texts(tailer.read())
    log.reopen()
    log.lines(2, "reopened")
    got += texts(tailer.read())
    assert got == log.written


def test_a_rotated_away_file_gives_its_last_line_even_without_a_newline(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.file.write(b"complete\nno newline")
    assert texts(tailer.read()) == ["complete"]
    log.path.rename(f"{log.path}.1")
    Log(log.path).file.write(b"new\n")
    assert texts(tailer.read()) == ["no newline", "new"]


def copytruncate(path: Path) -> None:
    shutil.copyfile(path, f"{path}.1")
    with path.open("r+b") as file:
        file.truncate(0)


def test_copytruncate_reads_the_unread_rest_from_the_copy_then_the_file_from_zero(
    log: Log,
) -> None:
    tailer = FileTailer(log.path)
    log.lines(5)
    got = texts(tailer.read())
    log.lines(3, "unread at the copy")
    copytruncate(log.path)
    log.lines(2, "after")
    got += texts(tailer.read())
    assert got == log.written


def test_copytruncate_is_seen_even_when_the_file_grew_back_past_our_offset(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.lines(2)
    got = texts(tailer.read())
    copytruncate(log.path)
    log.lines(20, "much longer lines written after the truncation")
    got += texts(tailer.read())
    assert got == log.written


def _empty_then_copytruncated(log: Log) -> FileTailer:
    """A tailer that read the file empty; then 3 lines written and the file copytruncated."""
    tailer = FileTailer(log.path)
    assert tailer.read() == []
    time.sleep(TICK)
    log.lines(3, "written and rotated between two reads")
    copytruncate(log.path)
    return tailer


def test_an_empty_file_written_and_copytruncated_between_two_reads_is_read_from_its_copy(
    log: Log,
) -> None:
    tailer = _empty_then_copytruncated(log)
    got = texts(tailer.read())
    log.lines(1, "after")
    got += texts(tailer.read())
    assert got == log.written


def test_an_empty_file_written_copytruncated_and_written_again_reads_the_copy_first(
    log: Log,
) -> None:
    # The lines written after the truncate moved the position past 0 before the check that
    # looks for a copy ("nothing read yet and modified"): the lines only in the copy were lost.
    tailer = _empty_then_copytruncated(log)
    log.lines(2, "after the truncate, before the read")
    got = texts(tailer.read())
    log.lines(1, "later")
    got += texts(tailer.read())
    assert got == log.written


def test_a_plain_truncation_without_a_copy_rereads_nothing(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.lines(4)
    got = texts(tailer.read())
    with log.path.open("r+b") as file:
        file.truncate(0)
    log.lines(2, "after")
    got += texts(tailer.read())
    assert got == log.written


def restarted(tailer: FileTailer, path: Path) -> FileTailer:
    """Save the state as JSON, stop the tailer, and start a new one from the saved state."""
    saved = json.dumps(tailer.state().to_dict())
    tailer.close()
    return FileTailer(path, state=TailState.from_dict(json.loads(saved)))


def test_a_restart_on_the_same_file_reads_exactly_the_lines_appended_meanwhile(
    log: Log,
) -> None:
    tailer = FileTailer(log.path)
    log.lines(3)
    got = texts(tailer.read())
    log.file.write(b"half a li")
    assert tailer.read() == []
    tailer = restarted(tailer, log.path)
    log.file.write(b"ne\n")
    log.written.append("half a line")
    log.lines(2)
    got += texts(tailer.read())
    assert got == log.written


def test_a_restart_after_a_rename_rotation_finishes_the_rotated_file_then_the_new_one(
    log: Log,
) -> None:
    tailer = FileTailer(log.path)
    log.lines(3)
    got = texts(tailer.read())
    tailer = restarted(tailer, log.path)  # while it is down:
    log.lines(2, "before the rotation")
    log.path.rename(f"{log.path}.1")
    new = Log(log.path)
    new.lines(2, "new")
    got += texts(tailer.read())
    assert got == log.written + new.written


def test_a_restart_after_a_copytruncate_reads_the_rest_from_the_copy(log: Log) -> None:
    tailer = FileTailer(log.path)
    log.lines(3)
    got = texts(tailer.read())
    tailer = restarted(tailer, log.path)
    log.lines(2, "before the copy")
    copytruncate(log.path)
    log.lines(2, "after")
    got += texts(tailer.read())
    assert got == log.written


def test_a_restart_with_a_state_matching_no_file_reads_the_current_file_from_zero(
    log: Log,
) -> None:
    log.lines(3)
    st = log.path.stat()
    reused = TailState(st.st_dev, st.st_ino, offset=40, fingerprint="0" * 64, fingerprint_size=10)
    assert texts(FileTailer(log.path, state=reused).read()) == log.written


def test_bad_bytes_become_clean_lines_and_are_counted(log: Log) -> None:
    tailer = FileTailer(log.path, max_line_bytes=1000)
    log.file.write(b"bad \xff\xfe utf8\n\ncrlf\r\nnul\x00here\n\n" + b"x" * 1_000_000 + b"\nend\n")
    got = texts(tailer.read())
    assert got == [
        "bad \ufffd\ufffd utf8",
        "",
        "crlf",
        "nul here",
        "",
        "x" * 1000 + TRUNCATED_MARKER,
        "end",
    ]
    stats = tailer.stats
    assert (stats.invalid_utf8, stats.crlf, stats.control_chars) == (1, 1, 1)
    assert (stats.truncated, stats.empty, stats.lines) == (1, 2, 7)


def test_a_large_backlog_comes_in_bounded_batches_without_loss(log: Log) -> None:
    log.lines(2000)
    tailer = FileTailer(log.path, batch_bytes=4096)
    got = texts(tailer.read())
    assert tailer.backlog
    while tailer.backlog:
        got += texts(tailer.read())
    assert got == log.written


def test_a_missing_file_is_waited_for_and_read_once_created(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "later.log"
    tailer = FileTailer(path)
    with caplog.at_level(logging.INFO, logger="vigil.collectors._tail"):
        assert tailer.read() == []
        assert tailer.read() == []
    assert tailer.status is TailStatus.MISSING
    assert tailer.problem is not None and tailer.problem.startswith(f"{path}: ")
    assert len(caplog.records) == 1
    log = Log(path)
    log.lines(2)
    assert texts(tailer.read()) == log.written
    assert tailer.status is TailStatus.OK and tailer.problem is None


def test_a_permission_error_is_reported_once_and_retried(
    log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    denied = True

    def opener(path: str) -> int:
        if denied:
            raise PermissionError(13, "Permission denied", path)
        return os.open(path, os.O_RDONLY)

    log.lines(2)
    tailer = FileTailer(log.path, opener=opener)
    with caplog.at_level(logging.WARNING, logger="vigil.collectors._tail"):
        assert tailer.read() == []
        assert tailer.read() == []
    assert tailer.status is TailStatus.UNREADABLE
    assert (
        tailer.problem
        == f"{log.path}: Permission denied; give Vigil's user read access to it; retrying"
    )
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    denied = False
    assert texts(tailer.read()) == log.written


def test_a_directory_in_place_of_the_log_file_is_reported_as_one_and_left_once_a_file(
    tmp_path: Path,
) -> None:
    # It was reported as "Is a directory; give Vigil's user read access to it": a fix that
    # does not fix it.
    path = tmp_path / "app.log"
    path.mkdir()
    tailer = FileTailer(path)
    assert tailer.read() == []
    assert tailer.status is TailStatus.UNREADABLE
    assert tailer.problem == (
        f"{path}: Is a directory; name a log file, not a directory, in logs.sources or --log; "
        "retrying"
    )
    path.rmdir()
    log = Log(path)
    log.lines(2)
    assert texts(tailer.read()) == log.written
    assert tailer.status is TailStatus.OK


def test_the_state_survives_json_and_a_malformed_one_is_refused() -> None:
    state = TailState(1, 2, 3, "ab" * 32, 4)
    assert TailState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    with pytest.raises(InputError, match="offset"):
        TailState.from_dict({**state.to_dict(), "offset": -1})
    with pytest.raises(InputError, match="expected an object"):
        TailState.from_dict([1, 2])


async def test_follow_yields_new_lines_and_sleeps_between_polls(log: Log) -> None:
    tailer = FileTailer(log.path)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            log.lines(2, "while sleeping")

    log.lines(1)
    got: list[str] = []
    async for batch in follow(tailer, interval=0.5, sleep=sleep):
        got += texts(batch)
        if len(got) == 3:
            break
    assert got == log.written
    assert sleeps == [0.5, 0.5]


@pytest.mark.parametrize("seed", range(25))
def test_random_writes_rotations_and_restarts_never_lose_or_repeat_a_line(
    tmp_path: Path, seed: int
) -> None:
    """Lines written in random fragments, with at most one rotation (rename or copytruncate)
    and maybe a restart between two reads: what is read is exactly what was written."""
    rng = random.Random(seed)
    path = tmp_path / "app.log"
    writer = path.open("ab", buffering=0)
    written: list[str] = []
    pending = b""
    tailer = FileTailer(path, max_line_bytes=200)
    got = texts(tailer.read())  # opened before anything happens to the file

    def shift_rotated() -> None:
        if Path(f"{path}.1").exists():
            os.replace(f"{path}.1", f"{path}.2")

    for step in range(40):
        for _ in range(rng.randrange(4)):
            text = f"step {step} " + "x" * rng.randrange(60) + "é" * rng.randrange(3)
            data = text.encode() + b"\n"
            cut = rng.randrange(len(data) + 1)
            writer.write(pending + data[:cut])
            pending = data[cut:]
            written.append(text)
        kind = rng.choice(["none", "none", "rename", "copytruncate"])
        if kind != "none":
            writer.write(pending)  # rotations happen at a line boundary of the writer
            pending = b""
            shift_rotated()
        if kind == "rename":
            path.rename(f"{path}.1")
            writer.write(f"late {step}\n".encode())  # before the writer reopens
            written.append(f"late {step}")
            writer.close()
            writer = path.open("ab", buffering=0)
            writer.write(f"first {step}\n".encode())
            written.append(f"first {step}")
        elif kind == "copytruncate":
            copytruncate(path)
        if rng.random() < 0.3:
            tailer = restarted(tailer, path)
        got += texts(tailer.read())
        if tailer.state().fingerprint_size == 0:
            time.sleep(TICK)
    writer.write(pending)
    got += texts(tailer.read())
    assert got == written
