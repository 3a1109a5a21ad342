"""One tailed file: its saved position, its open descriptor, and how to find it after a rotation.

:class:`TailState` is what :class:`vigil.collectors.FileTailer` hands out and takes back: the
device and inode of the file being read, the offset just past the last line returned, and a
fingerprint of the file's first bytes (up to :data:`FINGERPRINT_BYTES`) so that a reused inode
is not mistaken for the same file. :func:`rotated_candidates` lists the files a log rotation may
have moved ours to (``app.log.1``, ``app.log-20240501``...), newest first. :class:`OpenFile`
reads one open file into :class:`TailedLine` s through :class:`vigil.logs.LineSplitter`.

:class:`vigil.collectors.FileTailer` calls these; later the agent's and the controller's log
pipelines persist the state (``to_dict`` is plain JSON) next to the miner's state.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.errors import InputError
from vigil.logs import LineSplitter

FINGERPRINT_BYTES = 1024
"""A log's first kilobyte holds its first timestamped lines: enough to tell two generations of
the same log apart, small enough to read on every check."""

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".z")
"""Rotated files compressed by logrotate cannot be resumed; they are never candidates."""

CHUNK_BYTES = 64 * 1024
"""One ``pread``: large enough for few system calls, small enough to stay in the CPU caches."""

_EMPTY_FINGERPRINT = hashlib.sha256(b"").hexdigest()
_FIELDS = ("device", "inode", "offset", "fingerprint", "fingerprint_size", "mtime_ns")


def fingerprint(prefix: bytes) -> str:
    """The fingerprint of a file's first bytes (hex SHA-256, so the state stays small)."""
    return hashlib.sha256(prefix).hexdigest()


@dataclass(frozen=True, slots=True)
class TailState:
    """A position in one file: resume by reading from ``offset`` of the file with this identity.

    ``fingerprint`` hashes the file's first ``fingerprint_size`` bytes (at most
    :data:`FINGERPRINT_BYTES`; fewer when the file was shorter). A state with ``inode == 0`` means
    "no file yet": a tailer given it starts at the beginning of the current file.
    """

    device: int = 0
    inode: int = 0
    offset: int = 0
    fingerprint: str = _EMPTY_FINGERPRINT
    fingerprint_size: int = 0
    mtime_ns: int = 0
    """The file's modification time when last checked: with an empty fingerprint (the file was
    empty) it tells a copy made since (newer) from the copies of older rotations."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` reads it back."""
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: object) -> TailState:
        """Read a dict written by :meth:`to_dict`; a malformed one raises ``InputError``."""
        if not isinstance(data, dict):
            raise InputError(f"tail state: expected an object (got {type(data).__name__})")
        values: dict[str, Any] = {}
        for name in _FIELDS:
            value = data.get(name)
            want: type = str if name == "fingerprint" else int
            if type(value) is not want or (isinstance(value, int) and value < 0):
                raise InputError(
                    f"tail state: {name}: expected a non-negative {want.__name__} (got {value!r})"
                )
            values[name] = value
        if values["fingerprint_size"] > FINGERPRINT_BYTES:
            raise InputError(
                f"tail state: fingerprint_size: must be <= {FINGERPRINT_BYTES} "
                f"(got {values['fingerprint_size']})"
            )
        return cls(**values)

    def same_identity(self, st: os.stat_result) -> bool:
        """Whether ``st`` is the file this state was taken on (device and inode)."""
        return self.inode != 0 and (st.st_dev, st.st_ino) == (self.device, self.inode)

    def prefix_matches(self, fd: int) -> bool:
        """Whether the open file still starts with the fingerprinted bytes."""
        prefix = os.pread(fd, self.fingerprint_size, 0)
        return len(prefix) == self.fingerprint_size and fingerprint(prefix) == self.fingerprint

    def copied_into(self, fd: int) -> bool:
        """Whether the open file is a copy (copytruncate) of the file this state was taken on."""
        st = os.fstat(fd)
        if self.fingerprint_size == 0:
            return st.st_size > 0 and st.st_mtime_ns > self.mtime_ns
        return st.st_size >= self.offset and self.prefix_matches(fd)


def rotated_candidates(path: str) -> list[str]:
    """Files next to ``path`` that a rotation may have produced, ``path.1`` first, then newest.

    Names are ``path.<anything>`` or ``path-<anything>`` (logrotate's numbered and ``dateext``
    schemes); compressed files are left out. A directory that cannot be listed gives ``[]``.
    """
    directory, base = os.path.split(os.path.abspath(path))
    found: list[tuple[float, str]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith((base + ".", base + "-")) or name.lower().endswith(
                    COMPRESSED_SUFFIXES
                ):
                    continue
                try:
                    if entry.is_file():
                        found.append((entry.stat().st_mtime, entry.path))
                except OSError:
                    continue
    except OSError:
        return []
    first = os.path.join(directory, base + ".1")
    found.sort(key=lambda item: (item[1] != first, -item[0]))
    return [candidate for _, candidate in found]


def newer_generations(
    path: str, older: int | None, stop: tuple[int, int] | None, *, since_ns: int = 0
) -> list[str]:
    """The rotated files of ``path`` written after the file open as fd ``older``, oldest first.

    Two rotations between two reads (or while Vigil was down) leave a generation that was never
    at ``path`` when we looked: ``app.log.1`` when ``older`` is now ``app.log.2``. In logrotate's
    numbered scheme the generations newer than ``app.log.N`` are ``app.log.N-1`` ... ``app.log.1``;
    otherwise (``dateext``, or ``older`` deleted) they are the rotated files (a suffix of
    digits: see :data:`_ROTATION_SUFFIX`) modified since ``older`` last was, by modification
    time. The list ends before the file whose ``(device,
    inode)`` is ``stop`` (the one the caller reads next), and leaves out compressed files.
    ``older`` None (the file is gone): the rotated files modified since ``since_ns``.
    """
    st = os.fstat(older) if older is not None else None
    stats: dict[str, os.stat_result] = {}
    for candidate in rotated_candidates(path):
        try:
            stats[candidate] = os.stat(candidate)
        except OSError:
            continue
    path = os.path.abspath(path)
    prefix = path + "."
    numbered = {
        int(name[len(prefix) :]): name
        for name in stats
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    }
    mine = None if st is None else _ident(st)
    at = [n for n, name in numbered.items() if _ident(stats[name]) == mine]
    if at:
        names = [numbered[n] for n in range(at[0] - 1, 0, -1) if n in numbered]
    else:
        since = since_ns if st is None else st.st_mtime_ns
        dated = {name: s for name, s in stats.items() if _ROTATION_SUFFIX.match(name, len(path))}
        newer = [(s.st_mtime_ns, name) for name, s in dated.items() if s.st_mtime_ns >= since]
        names = [name for _, name in sorted(newer) if _ident(stats[name]) != mine]
    found: list[str] = []
    for name in names:
        if _ident(stats[name]) == stop:
            break
        found.append(name)
    return found


_ROTATION_SUFFIX = re.compile(r"[.-][0-9][0-9._-]*\Z")
"""What a rotation adds to the name (``.1``, ``-20240501``, ``.2024-05-01-1714550400``): read
whole only these, not any ``app.log.*`` that happens to be newer (``.pos``, ``.lock``, ``.bak``)."""


def _ident(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


@dataclass(frozen=True, slots=True)
class TailedLine:
    """One complete line: its text (repaired), where it starts in its file, and that file."""

    text: str
    offset: int
    path: str


class OpenFile:
    """One open file: where its returned lines end (``offset``), how far it has been read."""

    def __init__(
        self, fd: int, path: str, offset: int, splitter: Callable[[], LineSplitter]
    ) -> None:
        st = os.fstat(fd)
        self.fd, self.path, self.device, self.inode = fd, path, st.st_dev, st.st_ino
        self._new_splitter = splitter
        self.offset = self.pos = offset
        self.mtime = st.st_mtime_ns
        self.prefix = os.pread(fd, FINGERPRINT_BYTES, 0)
        self.splitter = splitter()

    def state(self) -> TailState:
        fp = fingerprint(self.prefix)
        return TailState(self.device, self.inode, self.offset, fp, len(self.prefix), self.mtime)

    def resumes(self, state: TailState, *, renamed: bool = False) -> bool:
        """Whether this is the file ``state`` was taken on, to be read on from its offset.
        ``renamed``: it was found under a rotated name, so an empty file written since was
        rotated by a rename, not copytruncated (which leaves the file at the log's own name)."""
        st = os.fstat(self.fd)
        ok = state.same_identity(st) and st.st_size >= state.offset
        if state.fingerprint_size == 0 and st.st_mtime_ns != state.mtime_ns and not renamed:
            return False  # empty when saved, modified since: maybe written and copytruncated
        return ok and state.prefix_matches(self.fd)

    def unchanged(self, maybe_copied: bool) -> bool:
        """False once the file was truncated or rewritten under us (copytruncate).

        ``maybe_copied``: the read just done began at 0 and the file is still at the log's
        path. Modified since the last check, it may have been written then copytruncated (and
        written again), so the caller looks for a copy newer than :attr:`mtime`.
        """
        st = os.fstat(self.fd)
        if st.st_size < self.pos or (maybe_copied and st.st_mtime_ns != self.mtime):
            return False
        self.mtime = st.st_mtime_ns
        now = os.pread(self.fd, FINGERPRINT_BYTES, 0)
        if not now.startswith(self.prefix):
            return False
        self.prefix = now
        return True

    def rewind(self) -> None:
        self.offset = self.pos = 0
        self.mtime = os.fstat(self.fd).st_mtime_ns
        self.prefix = os.pread(self.fd, FINGERPRINT_BYTES, 0)
        self.splitter = self._new_splitter()

    def drain(self, out: list[TailedLine], budget: int) -> int:
        """Read up to ``budget`` bytes, append the completed lines; return the budget left."""
        while budget > 0:
            data = os.pread(self.fd, min(CHUNK_BYTES, budget), self.pos)
            if not data:
                break
            budget -= len(data)
            ends: list[int] = []
            start = 0
            while (nl := data.find(b"\n", start)) >= 0:
                start = nl + 1
                ends.append(self.pos + start)
            for text, end in zip(self.splitter.feed(data), ends, strict=True):
                out.append(TailedLine(text, self.offset, self.path))
                self.offset = end
            self.pos += len(data)
        return budget

    def finish(self, out: list[TailedLine]) -> None:
        """The file will not grow any more: return its last line even without a newline."""
        for text in self.splitter.close():
            out.append(TailedLine(text, self.offset, self.path))
        self.offset = self.pos
        os.close(self.fd)
