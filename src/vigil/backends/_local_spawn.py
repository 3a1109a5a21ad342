"""Spawning one replica's process for :mod:`vigil.backends.local`: environment, log file, errors.

Synchronous on purpose: ``subprocess.Popen`` forks (vfork on Linux) and returns once the child has
exec'd, which takes about a millisecond. Running it in a worker thread instead would let a cancelled
``start()`` return while the thread still spawns a child nobody records.
"""

from __future__ import annotations

import os
import subprocess

from vigil.backends._local_procs import INSTANCE_ENV, REPLICA_ENV
from vigil.backends._protocol import ProcessSpec
from vigil.errors import BackendError

LOG_FILE_MODE = 0o644  # replica logs hold no secrets by contract; operators read them without sudo


def spawn(spec: ProcessSpec, instance: str) -> subprocess.Popen[bytes]:
    """Start ``spec`` in a new session; raise BackendError (no child left behind) if it can't."""
    if not spec.argv:
        raise BackendError(f"cannot start replica {spec.replica}: empty command")
    env = {**os.environ, **spec.env, INSTANCE_ENV: instance, REPLICA_ENV: spec.replica}
    out = _open_log(spec)
    try:
        return subprocess.Popen(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=spec.cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError) as exc:  # Popen reaps the child itself when exec fails
        raise BackendError(_spawn_error(spec, exc)) from exc
    finally:
        if out != subprocess.DEVNULL:
            os.close(out)  # the child has its own copy now


def _open_log(spec: ProcessSpec) -> int:
    if spec.log_path is None:
        return subprocess.DEVNULL
    try:
        os.makedirs(os.path.dirname(os.path.abspath(spec.log_path)), exist_ok=True)
        # O_APPEND: every write lands at the end, even after a copytruncate rotation emptied the
        # file; O_CLOEXEC: only the dup2'ed stdout/stderr reach the child, not a stray extra fd.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        return os.open(spec.log_path, flags, LOG_FILE_MODE)
    except OSError as exc:
        raise BackendError(
            f"cannot start replica {spec.replica}: log file {spec.log_path}: {exc.strerror}"
        ) from exc


def _spawn_error(spec: ProcessSpec, exc: Exception) -> str:
    what = f"cannot start replica {spec.replica} ({spec.argv[0]!r})"
    if isinstance(exc, OSError):
        if spec.cwd is not None and exc.filename == spec.cwd:
            return f"{what}: working directory {spec.cwd}: {exc.strerror}"
        return f"{what}: {exc.strerror or exc}"
    return f"{what}: {exc}"
