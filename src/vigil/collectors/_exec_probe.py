"""The exec probe: run a command, exit code 0 is success; killed with its process group on timeout.

Called by :func:`vigil.collectors.run_probe`, which bounds it with the probe's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping

from vigil.settings import ExecProbe

_KEEP = 4096
"""Bytes of output kept (the last ones: errors are usually printed last)."""
_DETAIL_CHARS = 200
_EOF_GRACE = 0.2
"""Seconds to wait for the output to end after the command exits (a child may hold the pipe)."""


async def _drain(stream: asyncio.StreamReader, buf: bytearray) -> None:
    while chunk := await stream.read(65536):
        buf += chunk
        if len(buf) > _KEEP:
            del buf[:-_KEEP]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _summary(returncode: int, output: bytes) -> str:
    status = f"exit {returncode}" if returncode >= 0 else f"killed by signal {-returncode}"
    text = " ".join(output.decode("utf-8", "replace").split())
    if len(text) > _DETAIL_CHARS:
        text = "..." + text[-_DETAIL_CHARS:]
    return f"{status}: {text}" if text else status


async def run_exec(spec: ExecProbe, port: int, env: Mapping[str, str] | None) -> tuple[bool, str]:
    """Run the command with ``{port}`` substituted; (exit code 0, a one-line summary).

    The command runs in a new session, so on cancellation (the probe's timeout) and when it ends
    its whole process group is killed: a probe leaves no process behind. ``env`` is added to
    Vigil's own environment.
    """
    argv = [arg.replace("{port}", str(port)) for arg in spec.command]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )
    except OSError as exc:
        return False, f"cannot run {argv[0]!r}: {exc.strerror or exc}"
    assert proc.stdout is not None
    output = bytearray()
    reader = asyncio.create_task(_drain(proc.stdout, output))
    try:
        returncode = await proc.wait()
        await asyncio.wait({reader}, timeout=_EOF_GRACE)
    finally:
        _kill_group(proc.pid)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await reader
        if proc.returncode is None:
            await proc.wait()
    return returncode == 0, _summary(returncode, bytes(output))
