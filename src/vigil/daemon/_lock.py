"""One controller per data directory, and per store: advisory `flock` locks on lock files.

Taken by :class:`vigil.daemon.Controller` at start: :class:`DataDirLock` on
``<data_dir>/controller.lock``, and :class:`StoreLock` beside a SQLite store
(:func:`vigil.store.claim_path`), so that two configs with their own data dirs but one
``store.url`` cannot both run the same replicas (the second swept the first's replicas as strays
and started its own). The kernel drops a lock when the process dies, even by ``kill -9``, so a
restarted controller never waits on a stale lock file.
"""

from __future__ import annotations

import fcntl
import os
from abc import ABC, abstractmethod
from pathlib import Path

from vigil.errors import VigilError


class _FileLock(ABC):
    """An exclusive ``flock`` on ``path`` holding the owner's pid; subclasses word the refusal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @abstractmethod
    def _busy(self, holder: str) -> str:
        """The error when pid ``holder`` has the lock: who holds what, and the fix."""

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise VigilError(f"cannot open the lock file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise VigilError(self._busy(holder)) from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class DataDirLock(_FileLock):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir / "controller.lock")

    def _busy(self, holder: str) -> str:
        return (
            f"another controller (pid {holder}) runs on {self.path.parent}: stop it first, "
            "or give this one another data_dir"
        )


class StoreLock(_FileLock):
    """The claim on a SQLite store at ``path`` (:func:`vigil.store.claim_path`), ``url`` shown."""

    def __init__(self, path: Path, url: str) -> None:
        super().__init__(path)
        self.url = url

    def _busy(self, holder: str) -> str:
        return (
            f"another controller (pid {holder}) uses the store {self.url} (lock {self.path}): "
            "stop it first, or give this one its own store.url"
        )
