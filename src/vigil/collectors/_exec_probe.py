"""The exec probe: run a command, exit code 0 is success; killed with its process group on timeout.

Called by :func:`vigil.collectors.run_probe`, which bounds it with the probe's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the agent imports vigil.collectors, and the settings
    # models (pydantic) would cost it ~14 MB for probes only the controller runs
    from vigil.settings import ExecProbe

_KEEP = 4096
"""Bytes of output kept (the last ones: errors are usually printed last)."""
_DETAIL_CHARS = 200
_EOF_GRACE = 0.2
"""Seconds to wait for the output to end after the command exits (a child may hold the pipe)."""


class _Run(asyncio.SubprocessProtocol):
    """Keeps the last :data:`_KEEP` bytes of output; ``exited`` is done when the command exits,
    ``closed`` when its output pipe closes. The two differ when a child of the command holds the
    pipe open: asyncio's ``Process.wait()`` waits for both, so a command that leaves a background
    job writing to its stdout looked hung until the probe's timeout."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.output = bytearray()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.output += data.encode() if isinstance(data, str) else data
        if len(self.output) > _KEEP:
            del self.output[:-_KEEP]

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


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

    The verdict comes when the command exits (its output is read for :data:`_EOF_GRACE` more).
    The command runs in a new session, so on cancellation (the probe's timeout) and when it ends
    its whole process group is killed and the pipe closed: a probe leaves no process or
    descriptor behind. ``env`` is added to Vigil's own environment.
    """
    argv = [arg.replace("{port}", str(port)) for arg in spec.command]
    loop = asyncio.get_running_loop()
    try:
        transport, run = await loop.subprocess_exec(
            lambda: _Run(loop),
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )
    except OSError as exc:
        return False, f"cannot run {argv[0]!r}: {exc.strerror or exc}"
    try:
        await run.exited
        await asyncio.wait({run.closed}, timeout=_EOF_GRACE)
    finally:
        _kill_group(transport.get_pid())
        try:
            if not run.exited.done():  # cancelled (timed out): wait until the kill is reaped
                await run.exited
        finally:
            transport.close()  # our end of the pipe, even while an escaped child holds its end
    returncode = transport.get_returncode()
    assert returncode is not None  # set before process_exited() is called
    return returncode == 0, _summary(returncode, bytes(run.output))
