"""Follow a growing log file through rotations and restarts: each complete line exactly once.

Later the agent's and the controller's log pipelines drive one :class:`FileTailer` per log file
with :func:`follow` and feed the lines to the miner of :mod:`vigil.logs`; the raw bytes are made
safe by :class:`vigil.logs.LineSplitter` (invalid UTF-8, NUL, CRLF, overlong lines), whose counts
are :attr:`FileTailer.stats`.

How each case is handled:

- **Partial last line**: held until its newline arrives; :meth:`FileTailer.state` points at its
  start, so a restart reads it whole. A file that has been rotated away is finished at its end,
  and a last line without a newline is returned then.
- **Rename rotation** (logrotate's default): the old file stays open by fd. Once ``path`` names
  another file *that has content* (an empty new file means the writer may not have reopened
  yet), the old one is read to its end, then the new one from offset 0.
- **copytruncate**: the file shrinks below our position or its first kilobyte changes. Lines
  between our last read and the copy are read from the copy (``path.1`` or the newest
  ``path.*`` starting with the same bytes), then the file from 0. Lines written between the
  copy and the truncate are in neither file: that loss is inherent to copytruncate; it is
  never a duplicate. A file that was empty at the last check has no first bytes to compare:
  its modification time tells that it was written since, and the oldest copy newer than that
  check is read (timestamps move by clock ticks, so this fails within a tick of the check).
  Such a file written, copytruncated *and then renamed* before the next read is not
  recovered: its copy's lines are lost.
- **Restart** with a saved :class:`TailState`: the same file (device, inode and fingerprint)
  resumes at the saved offset; a file rotated while Vigil was down is found among the rotated
  files and finished first; with no match the current file is read from 0 (a duplicate is
  better than a loss). A file deleted meanwhile (rotated past logrotate's ``rotate`` count)
  loses its unread lines, but the rotated files written since it was last checked are read
  whole first.
- **Two or more rotations** between two reads or while Vigil was down: the file we were reading
  is finished, then each generation between it and the current file, oldest first, whole
  (:func:`~vigil.collectors._tail_state.newer_generations`: ``app.log.2`` was ours, so
  ``app.log.1`` is read, then ``app.log``; in other schemes, by modification time). The same
  for copies: ours found as ``app.log.3``, the copies ``app.log.2`` and ``app.log.1`` follow
  (up to the file we read, should it have been renamed since).
- **Compressed rotations** (``.gz``, ``.bz2``...) are never read: a renamed file held open is
  finished from its descriptor even once compressed and unlinked, but a generation compressed
  before the tailer got to it (two rotations between two reads, or a restart after one, with
  logrotate's ``compress`` and no ``delaycompress``) is lost. Use ``delaycompress``: the first
  rotated generation then stays plain until the next rotation.
- **Missing or unreadable** file: ``read()`` returns ``[]`` and retries on the next call; the
  problem is logged once and kept in :attr:`FileTailer.problem`, never raised.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from vigil.collectors._tail_state import (
    OpenFile,
    TailedLine,
    TailState,
    newer_generations,
    rotated_candidates,
)
from vigil.logs import DEFAULT_MAX_LINE_BYTES, InputStats, LineSplitter

_log = logging.getLogger(__name__)

BATCH_BYTES = 1024 * 1024
"""At most this much is read per :meth:`FileTailer.read`, so catching up on a large file yields
batches of bounded size (and :func:`follow` gives the event loop a turn between them)."""

MAX_SWITCHES = 4
"""File switches per read: a file rewritten faster than we read cannot keep us in a loop."""

Opener = Callable[[str], int]
"""Opens a path for reading and returns a file descriptor (``os.open`` by default)."""


def open_readonly(path: str) -> int:
    """The default opener."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


class TailStatus(enum.StrEnum):
    """Whether the tailer can read its file right now."""

    OK = "ok"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class FileTailer:
    """Reads the complete lines appended to ``path`` since the last call (see the module doc).

    ``state`` resumes where a previous tailer's :meth:`state` stood; without it the file is read
    from its beginning. ``opener`` replaces ``os.open`` (tests inject permission errors with it).
    Not thread-safe: one caller at a time.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        state: TailState | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        batch_bytes: int = BATCH_BYTES,
        opener: Opener = open_readonly,
    ) -> None:
        self.path = os.fspath(path)
        self.stats = InputStats()
        """What the line splitter repaired, over every file read so far."""
        self.status = TailStatus.OK
        self.problem: str | None = None
        """One line naming the file and the fix while ``status`` is not OK."""
        self.backlog = False
        """True when the last :meth:`read` stopped at ``batch_bytes`` with more to read."""
        self._max_line_bytes = max_line_bytes
        self._batch_bytes = batch_bytes
        self._opener = opener
        self._resume = state if state is not None and state.inode != 0 else None
        self._cur: OpenFile | None = None
        self._old: list[OpenFile] = []
        """Rotated-away files to finish, in this order, before ``_cur``."""

    def state(self) -> TailState:
        """Where a restarted tailer should resume (just past the last line returned)."""
        reader = self._old[0] if self._old else self._cur
        if reader is not None:
            return reader.state()
        return self._resume or TailState()

    def read(self) -> list[TailedLine]:
        """The lines completed since the last call, in file order; never blocks for more."""
        out: list[TailedLine] = []
        budget = self._batch_bytes
        try:
            budget = self._read(out, budget)
        except OSError as exc:
            self._report(TailStatus.UNREADABLE, exc)
        else:
            if self._cur is not None:
                self._report(TailStatus.OK, None)
        self.backlog = budget <= 0
        return out

    def close(self) -> None:
        """Release the open files; :meth:`state` still tells where to resume."""
        resume = self.state()
        for reader in [*self._old, self._cur]:
            if reader is not None:
                os.close(reader.fd)
        self._old, self._cur = [], None
        self._resume = resume if resume.inode != 0 else None

    def _read(self, out: list[TailedLine], budget: int) -> int:
        switches = 0
        while budget > 0 and switches < MAX_SWITCHES:
            if self._old:
                budget = self._old[0].drain(out, budget)
                if budget <= 0:
                    break
                self._old.pop(0).finish(out)
                continue
            if self._cur is None:
                if not self._open_current():
                    break
                switches += 1
                continue
            cur, before = self._cur, self._cur.state()
            # nothing read of it yet: checked after the read, the lines written after a
            # copytruncate hid the copy (and the lines only in it were lost)
            maybe_copied = cur.pos == 0 and self._at_path(cur)
            batch: list[TailedLine] = []
            left = cur.drain(batch, budget)
            if not cur.unchanged(maybe_copied):
                # Truncated (before or while we read): what we just read may be new content
                # read from the old position, so it is dropped and read again from the start.
                self._old = self._generations(self._find_rotated(before, cur), cur)
                cur.rewind()
                switches += 1
                continue
            out += batch
            budget = left
            if budget <= 0 or not self._renamed(cur):
                break
            switches += 1
        return budget

    def _at_path(self, cur: OpenFile) -> bool:
        """Whether ``cur`` is still the file at ``path`` (a renamed file is not copytruncated)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (cur.device, cur.inode)

    def _renamed(self, cur: OpenFile) -> bool:
        """At the end of the current file: if ``path`` is another file now, switch to it."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed away, the new file not created yet: keep the old one open
        if (st.st_dev, st.st_ino) == (cur.device, cur.inode) or st.st_size == 0:
            return False  # an empty new file: the writer may not have reopened yet
        self._old, self._cur = self._generations(cur, None), None
        return True

    def _open_current(self) -> bool:
        reader = self._try_open(self.path, 0, report=True)
        state, self._resume = self._resume, None
        if state is not None:
            if reader is not None and reader.resumes(state):
                reader.offset = reader.pos = state.offset
            else:
                old = self._find_rotated(state, reader)
                self._old = (
                    self._generations(old, reader)
                    if old is not None
                    else self._since(state, reader)
                )
        if reader is None and not self._old:
            self._resume = state
            return False
        self._cur = reader
        return True

    def _since(self, state: TailState, current: OpenFile | None) -> list[OpenFile]:
        """The file of ``state`` is gone (rotated out of the kept count while Vigil was down):
        the rotated files written since it was checked, oldest first (its unread lines are
        lost with it; not the generations after it)."""
        if state.mtime_ns == 0:
            return []  # no time to go by: the current file is read from 0
        here = [self.path, *rotated_candidates(self.path)]
        if any(_has_identity(name, state) for name in here):
            return []  # not gone (truncated, rewritten): the current file is read from 0
        stop = None if current is None else (current.device, current.inode)
        found: list[OpenFile] = []
        for name in newer_generations(self.path, None, stop, since_ns=state.mtime_ns):
            reader = self._try_open(name, 0, report=False)
            if reader is not None:
                found.append(reader)
        return found

    def _generations(self, old: OpenFile | None, current: OpenFile | None) -> list[OpenFile]:
        """``old`` and the generations rotated after it, oldest first, up to ``current`` (a
        truncated file may have been renamed too: its place is among them)."""
        if old is None:
            return []
        stop = None if current is None else (current.device, current.inode)
        found = [old]
        seen = {(old.device, old.inode)}
        for name in newer_generations(self.path, old.fd, stop):
            reader = self._try_open(name, 0, report=False)
            if reader is None:
                continue
            ident = (reader.device, reader.inode)
            if ident in seen or ident == stop:  # replaced since it was listed
                os.close(reader.fd)
                continue
            seen.add(ident)
            found.append(reader)
        return found

    def _find_rotated(self, state: TailState, current: OpenFile | None) -> OpenFile | None:
        """The file ``state`` was taken on, renamed (same inode) or copied (same first bytes)."""
        copy: OpenFile | None = None
        for candidate in rotated_candidates(self.path):
            reader = self._try_open(candidate, state.offset, report=False)
            if reader is None:
                continue
            ident = (reader.device, reader.inode)
            if current is not None and ident == (current.device, current.inode):
                os.close(reader.fd)
            elif reader.resumes(state, renamed=True):
                if copy is not None:
                    os.close(copy.fd)
                return reader
            elif state.copied_into(reader.fd) and (copy is None or _older(state, reader, copy)):
                if copy is not None:
                    os.close(copy.fd)
                copy = reader
            else:
                os.close(reader.fd)
        return copy

    def _try_open(self, path: str, offset: int, *, report: bool) -> OpenFile | None:
        try:
            fd = self._opener(path)
        except FileNotFoundError as exc:
            if report:
                self._report(TailStatus.MISSING, exc)
            return None
        except OSError as exc:
            if report:
                self._report(TailStatus.UNREADABLE, exc)
            return None
        try:
            reader = OpenFile(fd, path, offset, self._splitter)
        except OSError:
            os.close(fd)
            raise
        return reader

    def _splitter(self) -> LineSplitter:
        splitter = LineSplitter(self._max_line_bytes)
        splitter.stats = self.stats
        return splitter

    def _report(self, status: TailStatus, exc: OSError | None) -> None:
        if status is self.status:
            return
        self.status = status
        if status is TailStatus.OK:
            self.problem = None
            _log.info("%s: readable again, tailing it", self.path)
            return
        reason = exc.strerror if exc is not None and exc.strerror else str(exc)
        fix = {
            TailStatus.MISSING: "waiting for it to be created",
            TailStatus.UNREADABLE: "give Vigil's user read access to it; retrying",
        }[status]
        if isinstance(exc, IsADirectoryError):
            fix = "name a log file, not a directory, in logs.sources or --log; retrying"
        self.problem = f"{self.path}: {reason}; {fix}"
        level = logging.INFO if status is TailStatus.MISSING else logging.WARNING
        _log.log(level, "%s", self.problem)


def _has_identity(path: str, state: TailState) -> bool:
    try:
        return state.same_identity(os.stat(path))
    except OSError:
        return False


def _older(state: TailState, reader: OpenFile, than: OpenFile) -> bool:
    """Of two copies of a file that was empty at ``state``, the older is ours: the newer
    ones are of later generations (two copytruncates since). Numbered copies of one tick
    (the same mtime) go by their number, ``app.log.2`` before ``app.log.1``."""
    if state.fingerprint_size != 0:
        return False  # only the copy that starts with our bytes matches: the first found
    return _age(reader) < _age(than)


def _age(reader: OpenFile) -> tuple[int, int]:
    suffix = reader.path.rpartition(".")[2]
    return reader.mtime, -int(suffix) if suffix.isdigit() else 0


async def follow(
    tailer: FileTailer,
    *,
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[list[TailedLine]]:
    """Poll ``tailer`` every ``interval`` seconds and yield each non-empty batch of lines.

    While a backlog remains (a large file being caught up) it only yields to the event loop
    (``sleep(0)``) between batches. Reads are plain blocking reads of a local file, bounded by
    ``batch_bytes``. Runs until cancelled; the caller owns and closes the tailer.
    """
    while True:
        batch = tailer.read()
        if batch:
            yield batch
        await sleep(0 if tailer.backlog else interval)
