"""Copytruncate log rotation: the file logic, and a live replica that keeps logging through it."""

from __future__ import annotations

import asyncio
import errno
import subprocess
import sys

import pytest

from vigil.backends import ProcessSpec
from vigil.backends._logrotate import rotate
from vigil.backends.local import LocalBackend
from vigil.errors import BackendError
from vigil.model import ReplicaId

from ._helpers import eventually, python, read


def test_a_file_over_the_limit_is_copied_to_dot_one_and_truncated(tmp_path):
    log = tmp_path / "r.log"
    log.write_text("x" * 11)
    assert rotate(str(log), max_bytes=10, keep=3)
    assert log.read_text() == ""
    assert (tmp_path / "r.log.1").read_text() == "x" * 11


def test_a_file_within_the_limit_is_left_alone(tmp_path):
    log = tmp_path / "r.log"
    log.write_text("x" * 10)
    assert not rotate(str(log), max_bytes=10, keep=3)
    assert log.read_text() == "x" * 10
    assert not (tmp_path / "r.log.1").exists()


def test_a_missing_file_is_not_rotated(tmp_path):
    assert not rotate(str(tmp_path / "never-written.log"), max_bytes=10, keep=3)


def test_rotation_keeps_the_newest_n_copies_in_order(tmp_path):
    log = tmp_path / "r.log"
    for generation in range(1, 6):
        log.write_text(f"generation {generation}\n")
        assert rotate(str(log), max_bytes=1, keep=3)
    rotated = sorted(p.name for p in tmp_path.iterdir())
    assert rotated == ["r.log", "r.log.1", "r.log.2", "r.log.3"]
    assert (tmp_path / "r.log.1").read_text() == "generation 5\n"
    assert (tmp_path / "r.log.3").read_text() == "generation 3\n"


def test_keep_zero_only_truncates(tmp_path):
    log = tmp_path / "r.log"
    log.write_text("x" * 100)
    assert rotate(str(log), max_bytes=10, keep=0)
    assert [p.name for p in tmp_path.iterdir()] == ["r.log"]
    assert log.stat().st_size == 0


def test_lowering_keep_drops_the_extra_copies(tmp_path):
    log = tmp_path / "r.log"
    for n in range(1, 5):
        (tmp_path / f"r.log.{n}").write_text(str(n))
    log.write_text("x" * 100)
    assert rotate(str(log), max_bytes=10, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.log", "r.log.1", "r.log.2"]
    assert (tmp_path / "r.log.2").read_text() == "1"


def test_a_zero_limit_disables_rotation(tmp_path):
    log = tmp_path / "r.log"
    log.write_text("x" * 100)
    assert not rotate(str(log), max_bytes=0, keep=3)


def test_rotate_logs_without_a_log_file_does_nothing(tmp_path):
    assert not LocalBackend("test").rotate_logs(ProcessSpec(ReplicaId("svc/0"), ["true"]))


def test_rotate_logs_reports_file_errors_as_backend_errors(tmp_path):
    log = tmp_path / "r.log"
    log.mkdir()  # a directory where the file should be: stat works, copying does not
    (log / "filler").write_text("x" * 100)
    s = ProcessSpec(ReplicaId("svc/0"), ["true"], log_path=str(log), log_max_bytes=1)
    with pytest.raises(BackendError, match="svc/0"):
        LocalBackend("test").rotate_logs(s)


async def test_a_running_replica_keeps_logging_from_the_start_of_the_truncated_file(
    backend, tmp_path
):
    code = (
        "import sys, time\n"
        "for i in range(1000):\n"
        "    print(f'line {i:04d}', flush=True)\n"
        "    time.sleep(0.01)\n"
    )
    s = ProcessSpec(
        ReplicaId("svc/0"),
        python(code),
        log_path=str(tmp_path / "r.log"),
        log_max_bytes=50,
        log_keep=2,
    )
    await backend.start(s)
    await eventually(lambda: len(read(s.log_path)) > 50)
    assert backend.rotate_logs(s)
    await asyncio.sleep(0.1)
    content = (tmp_path / "r.log").read_bytes()
    assert b"\0" not in content  # O_APPEND: no sparse hole up to the child's old offset
    assert content.startswith(b"line ")
    assert (tmp_path / "r.log.1").read_text().startswith("line 0000")


FAILING_COPY = """
import resource, signal, sys
from vigil.backends._logrotate import rotate
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # as a full disk would, mid-copy
for _ in range(3):  # the backend tries again every few seconds
    try:
        rotate(sys.argv[1], max_bytes=10, keep=3)
    except OSError as exc:
        print(exc.errno)
"""


def test_a_rotation_that_cannot_copy_loses_no_rotated_copy_and_leaves_no_partial_one(tmp_path):
    # on a full disk each attempt shifted .1 -> .2 -> .3 before its copy failed: three tries
    # and the older logs (what an operator reads after the incident) were gone
    log = tmp_path / "r.log"
    for n in (1, 2, 3):
        (tmp_path / f"r.log.{n}").write_text(f"copy {n}\n")
    log.write_text("x" * 10_000)
    done = subprocess.run(
        [sys.executable, "-c", FAILING_COPY, str(log)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == [str(errno.EFBIG)] * 3, done.stderr
    for n in (1, 2, 3):
        assert (tmp_path / f"r.log.{n}").read_text() == f"copy {n}\n"
    assert log.read_text() == "x" * 10_000  # not truncated: nothing was kept of it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.log", "r.log.1", "r.log.2", "r.log.3"]


def test_lines_written_while_the_log_is_copied_are_kept_in_the_rotated_copy(tmp_path, monkeypatch):
    # the replica keeps writing while its log is copied (a 10 MB copy takes tens of ms): what
    # it wrote meanwhile was truncated away with the rest, in neither file
    import shutil

    from vigil.backends import _logrotate

    log = tmp_path / "r.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    copy = shutil.copyfile

    def copy_while_the_replica_writes(src: str, dst: str) -> str:
        copied = copy(src, dst)
        with open(src, "a") as replica:  # O_APPEND, as the replica's stdout
            replica.write("".join(f"line {i}\n" for i in range(100, 120)))
        return copied

    monkeypatch.setattr(_logrotate.shutil, "copyfile", copy_while_the_replica_writes)
    assert rotate(str(log), max_bytes=10, keep=3)
    kept = (tmp_path / "r.log.1").read_text() + log.read_text()
    assert kept == "".join(f"line {i}\n" for i in range(120))
