"""Copytruncate log rotation: the pure file logic behind ``LocalBackend.rotate_logs``.

A replica's stdout/stderr go straight into its log file through a descriptor the *child* holds
(opened ``O_APPEND`` by :mod:`vigil.backends.local`), so the file cannot be renamed away from under
it as a plain rotation would: the child would keep writing into the renamed file. Instead, like
logrotate's ``copytruncate``, the current file is copied to ``<log>.1`` and then truncated in
place; thanks to ``O_APPEND`` the child's next write lands at the new end (offset 0), not at its old
offset, so no sparse hole appears. The price, as with logrotate, is that lines written between the
copy and the truncation are lost; to keep that window short, what was written during the copy is
appended to the copy just before the truncation, so only a write landing in between is lost.

Called by :mod:`vigil.backends.local` only (the supervisor in :mod:`vigil.remediation` asks the
backend to rotate each replica's log periodically).
"""

from __future__ import annotations

import contextlib
import os
import shutil


def rotated_name(path: str, n: int) -> str:
    """The name of the ``n``-th rotated copy of ``path`` (1 is the newest)."""
    return f"{path}.{n}"


def rotate(path: str, max_bytes: int, keep: int) -> bool:
    """Rotate ``path`` if it is larger than ``max_bytes``; keep at most ``keep`` rotated copies.

    ``<path>.1`` is the newest copy, ``<path>.<keep>`` the oldest; ``keep == 0`` just truncates.
    ``max_bytes <= 0`` disables rotation. Returns True when the file was rotated. A missing file is
    not an error (the replica has not written anything yet). Other ``OSError``\\ s propagate.
    """
    if max_bytes <= 0:
        return False
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return False
    if size <= max_bytes:
        return False
    if keep > 0:
        # Copy first, through a temporary name: a copy that fails (a full disk) shifts nothing
        # and leaves nothing half-written; shifting first lost the oldest copy at every retry.
        tmp = rotated_name(path, 1) + ".tmp"
        try:
            shutil.copyfile(path, tmp)
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(tmp)  # the space a partial copy took, given back
            raise
        # Oldest first, so nothing is overwritten before it moved: .keep-1 -> .keep ... .1 -> .2
        for n in range(keep - 1, 0, -1):
            src = rotated_name(path, n)
            if os.path.exists(src):
                os.replace(src, rotated_name(path, n + 1))
        os.replace(tmp, rotated_name(path, 1))
        _catch_up(path, rotated_name(path, 1))
    os.truncate(path, 0)
    _drop_extra(path, keep)
    return True


def _catch_up(path: str, copy: str) -> None:
    """Append to ``copy`` what the replica wrote to ``path`` since it was copied, just before
    the truncation: only a write landing between this last read and the truncation is lost
    (microseconds), not everything written during the copy (tens of ms for 10 MB)."""
    copied = os.stat(copy).st_size
    with open(path, "rb") as src, open(copy, "ab") as dst:
        if os.fstat(src.fileno()).st_size > copied:
            src.seek(copied)
            shutil.copyfileobj(src, dst)


def _drop_extra(path: str, keep: int) -> None:
    """Remove rotated copies past ``keep`` (left over when ``log_keep`` was lowered)."""
    n = keep + 1
    while True:
        extra = rotated_name(path, n)
        try:
            os.remove(extra)
        except FileNotFoundError:
            return
        n += 1
