"""One controller per data directory, and per store: `flock` locks, and PostgreSQL's own lock.

Taken by :class:`vigil.daemon.Controller` at start: :class:`DataDirLock` on
``<data_dir>/controller.lock``, and :class:`StoreLock` beside a SQLite store
(:func:`vigil.store.claim_path`), so that two configs with their own data dirs but one
``store.url`` cannot both run the same replicas (the second swept the first's replicas as strays
and started its own). The kernel drops a lock when the process dies, even by ``kill -9``, so a
restarted controller never waits on a stale lock file. A PostgreSQL store, which controllers on
several hosts can reach, is claimed by :class:`DatabaseLock` (an advisory lock the server drops
when the holder's connection ends); with ``store.standby`` a second controller waits for it and
takes over when the leader dies. Once it holds the claim, the controller leads the store
(:meth:`DatabaseLock.lead`): every write it makes after that is fenced, refused once another
controller leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vigil.errors import StoreBusy, StoreError, VigilError
from vigil.store import DatabaseClaim, SqlStore

T = TypeVar("T")
log = logging.getLogger("vigil.daemon")
CHECK_EVERY = 5.0
"""Seconds between the leader's checks of its claim. Writes do not wait for it: each write
transaction proves the leadership itself (:meth:`vigil.store.SqlStore.lead`, the fence)."""
_WAIT_SLICE = 1.0
"""Seconds a standby blocks on the lock at a time (granted the moment the leader goes; between
slices it checks whether it was asked to stop)."""
_ENDING_GRACE = 2.0
"""Seconds :meth:`DatabaseLock.acquire` waits for a holder before refusing: a controller that
has just stopped closed its connection, but the server drops its lock only once that session has
ended, a moment later (a controller started right after another one stopped was refused, the
holder already gone: ``?``)."""


class _FileLock(ABC):
    """An exclusive ``flock`` on ``path`` holding the owner's pid; subclasses word the refusal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @abstractmethod
    def _busy(self, holder: str) -> str:
        """The error when pid ``holder`` has the lock: who holds what, and the fix."""

    def _unusable(self, exc: OSError) -> str:
        """The error when the lock file cannot be opened (its directory cannot be made)."""
        return f"cannot open the lock file {self.path}: {exc.strerror}"

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise VigilError(self._unusable(exc)) from exc
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

    def _unusable(self, exc: OSError) -> str:
        # the first thing `vigil up` does with data_dir: name it, not the lock file inside it
        # ('cannot open the lock file .../controller.lock: File exists' for a data_dir that
        # is a file)
        where = self.path.parent
        if where.exists() and not where.is_dir():
            return (
                f"data_dir: {where} is a file, not a directory: point data_dir at a directory "
                "(or move the file away)"
            )
        verb = "write in" if where.is_dir() else "create"
        return (
            f"data_dir: cannot {verb} {where} ({exc.strerror}): point data_dir at a directory "
            "this user can create and write"
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


class DatabaseLock:
    """The claim on a PostgreSQL store: :class:`vigil.store.DatabaseClaim`, an advisory lock.

    :meth:`acquire` refuses at once when another controller holds the database;
    :meth:`wait_for` (``store.standby: true``) waits, as a standby, until the holder goes;
    :meth:`watch` checks every ``check_every`` seconds that the claim still holds, retakes it
    after a lost connection when it is free, and calls ``on_lost`` when another controller has
    it (so that two controllers never run one fleet).
    """

    def __init__(self, url: str, *, check_every: float | None = None) -> None:
        self.claim = DatabaseClaim(url)
        self.url = self.claim.where
        self.check_every = CHECK_EVERY if check_every is None else check_every
        # the claim's connection is used by one thread at a time: a watch cancelled mid-check
        # leaves its worker thread running, and release() must not close the connection under it
        self._using = threading.Lock()
        self._store: SqlStore | None = None  # the store this controller leads, once it does

    async def _call(self, method: Callable[..., T], *args: Any) -> T:
        def locked() -> T:
            with self._using:
                return method(*args)

        return await asyncio.to_thread(locked)

    def _busy(self, holder: str) -> str:
        return (
            f"another controller ({holder}) uses the store {self.url}: stop it first, give this "
            "one its own store.url, or set store.standby: true to have it wait as a standby"
        )

    def acquire(self) -> None:
        try:
            holder = self.claim.try_acquire()
        except StoreError:
            self.claim.release()
            raise
        if holder is not None and not self._holder_ends(holder):
            self.claim.release()
            raise VigilError(self._busy(self._still_held_by(holder)))

    def _holder_ends(self, holder: str) -> bool:
        """Whether the lock was granted within :data:`_ENDING_GRACE` (its holder was leaving)."""
        try:
            return self.claim.wait(_ENDING_GRACE)
        except StoreError as exc:
            log.warning("waiting for the store's holder (%s) failed: %s", holder, exc)
            return False

    def _still_held_by(self, holder: str) -> str:
        with contextlib.suppress(StoreError):
            return self.claim.holder()
        return holder

    async def wait_for(self, stop: asyncio.Event) -> bool:
        """Take the claim, waiting for its holder to go; False when ``stop`` was set first."""
        holder = await self._call(self.claim.try_acquire)
        if holder is None:
            return True
        since = time.monotonic()
        log.warning("standby: the store %s is led by %s; waiting to take over", self.url, holder)
        while not stop.is_set():
            try:
                granted = await self._call(self.claim.wait, _WAIT_SLICE)
            except StoreError as exc:  # the server restarting, the network: stand by still
                log.warning("standby: cannot reach the store, waiting on: %s", exc)
                await asyncio.sleep(_WAIT_SLICE)
                continue
            if granted:
                log.warning(
                    "standby: took over as leader of the store %s after standing by %.1f s",
                    self.url,
                    time.monotonic() - since,
                )
                return True
        return False

    async def lead(
        self,
        store: SqlStore,
        *,
        at: float,
        on_lost: Callable[[str], None],
        stop: asyncio.Event,
    ) -> bool:
        """Take ``store``'s next leadership epoch, which fences its every later write
        (:meth:`vigil.store.SqlStore.lead`), waiting for the old leader's writes in flight;
        False when ``stop`` was set first. ``on_lost(message)`` runs on this event loop, once,
        when a write of ``store`` finds that another controller leads: at once, not at the next
        claim check."""
        loop = asyncio.get_running_loop()

        def told(message: str) -> None:  # from whichever thread wrote
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody left to tell
                loop.call_soon_threadsafe(on_lost, message)

        waiting = False
        while not stop.is_set():
            try:
                epoch = await asyncio.to_thread(
                    store.lead, self.claim.name, at=at, on_lost=told, wait=_WAIT_SLICE
                )
            except StoreBusy:
                if not waiting:
                    log.warning(
                        "waiting for the old leader's writes in flight before leading the store %s",
                        self.url,
                    )
                waiting = True
                continue
            log.info("leading the store %s (leadership epoch %d)", self.url, epoch)
            self._store = store
            return True
        return False

    async def watch(self, on_lost: Callable[[str], None]) -> None:
        """Check the claim until cancelled; ``on_lost(holder)`` once another controller has it."""
        while True:
            await asyncio.sleep(self.check_every)
            if await self._call(self.claim.held):
                continue
            try:
                holder = await self._call(self.claim.try_acquire)
            except StoreError as exc:
                # the server is out of reach: run on (a lone controller must outlive a server
                # restart); whether a standby took over is learnt once the server answers again
                log.warning("the claim on the store %s is not held: %s", self.url, exc)
                continue
            if holder is None and not await self._led_meanwhile():
                log.warning("the claim on the store %s was lost and is taken again", self.url)
                continue
            if holder is None:  # another controller led while the claim was free, and left
                holder = "another controller, which led the store while this one had lost it"
            on_lost(holder)
            return

    async def _led_meanwhile(self) -> bool:
        """Whether another controller took the store's lead since this one did."""
        if self._store is None:
            return False
        try:
            return not await asyncio.to_thread(self._store.leads)
        except StoreError as exc:  # the next write tells, refused by the fence if it must
            log.warning("cannot read the leadership of the store %s: %s", self.url, exc)
            return False

    def release(self) -> None:
        with self._using:
            self.claim.release()
