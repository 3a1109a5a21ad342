"""One controller per data directory: an advisory ``flock`` on ``controller.lock``.

Taken by :class:`vigil.daemon.Controller` at start. The kernel drops the lock when the process
dies, even by ``kill -9``, so a restarted controller never waits on a stale lock file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from vigil.errors import VigilError


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "controller.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise VigilError(
                f"another controller (pid {holder}) runs on {self.path.parent}: stop it first, "
                "or give this one another data_dir"
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
