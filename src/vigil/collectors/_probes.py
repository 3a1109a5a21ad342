"""Run one liveness or readiness probe (HTTP GET, TCP connect or a command) against a replica.

:func:`run_probe` is called by :class:`vigil.collectors.ProbeLoop` (driven by the supervisor in
:mod:`vigil.remediation`) and by tests. It never raises for a failed probe: refusals, resets,
malformed answers and timeouts all become a failed :class:`ProbeOutcome`. The whole probe,
connect included, is bounded by ``probe.timeout``, so a hung server (one that accepts connections
but never answers, e.g. a SIGSTOPped process whose listen backlog still completes TCP handshakes)
comes back as ``timed_out=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vigil.collectors._exec_probe import run_exec
from vigil.collectors._outcome import ProbeOutcome

if TYPE_CHECKING:  # annotations only: the agent imports vigil.collectors, and the settings
    # models (pydantic) would cost it ~14 MB for probes only the controller runs
    from vigil.settings import HttpProbe, Probe, TcpProbe

MAX_BODY = 64 * 1024
"""Bytes of an HTTP response body read to look for ``body_contains``."""
_MAX_HEADERS = 100


class _BadResponse(Exception):
    """The server answered something that is not an HTTP/1.x response."""


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit()`` also accepts "²", which ``int()`` refuses."""
    return text.isascii() and text.isdigit()


async def _readline(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError as exc:  # a line longer than the stream limit
        raise _BadResponse("header line too long") from exc


async def _read_upto(reader: asyncio.StreamReader, count: int) -> bytes:
    try:
        return await reader.readexactly(count)
    except asyncio.IncompleteReadError as exc:
        return exc.partial


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    line = await _readline(reader)
    if not line:
        raise _BadResponse("connection closed without a response")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not _is_number(parts[1]):
        raise _BadResponse(f"not an HTTP response: {line[:40]!r}")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = await _readline(reader)
        if line in (b"\r\n", b"\n", b""):
            return int(parts[1]), headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raise _BadResponse(f"more than {_MAX_HEADERS} headers")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while len(body) < MAX_BODY:
        size_line = (await _readline(reader)).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as exc:
            raise _BadResponse(f"bad chunk size {size_line[:20]!r}") from exc
        if size < 0:  # int() takes a sign; readexactly() raised ValueError on it, out of the probe
            raise _BadResponse(f"bad chunk size {size_line[:20]!r}")
        if size == 0:
            break
        chunk = await _read_upto(reader, min(size, MAX_BODY - len(body)))
        body += chunk
        if len(chunk) < size:
            break
        await _readline(reader)
    return bytes(body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> str:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        data = await _read_chunked(reader)
    elif _is_number(length := headers.get("content-length", "")):
        data = await _read_upto(reader, min(int(length), MAX_BODY))
    else:
        data = await _read_upto(reader, MAX_BODY)
    return data.decode("utf-8", "replace")


async def _exchange(reader: asyncio.StreamReader, spec: HttpProbe) -> tuple[bool, str]:
    status, headers = await _read_head(reader)
    if status not in spec.expect_status:
        return False, f"HTTP {status}"
    if spec.body_contains is None:
        return True, f"HTTP {status}"
    if spec.body_contains not in await _read_body(reader, headers):
        return False, f"HTTP {status}, body lacks {spec.body_contains!r}"
    return True, f"HTTP {status}"


async def _http(spec: HttpProbe, port: int) -> tuple[bool, str]:
    reader, writer = await asyncio.open_connection(spec.host, port, limit=MAX_BODY)
    host = f"[{spec.host}]" if ":" in spec.host else spec.host
    request = (
        f"GET {spec.path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: vigil-probe\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    )
    try:
        writer.write(request.encode())
        await writer.drain()
        result = await _exchange(reader, spec)
    except BaseException:
        writer.transport.abort()
        raise
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return result


async def _tcp(spec: TcpProbe, port: int) -> tuple[bool, str]:
    target = spec.port or port
    _, writer = await asyncio.open_connection(spec.host, target)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True, f"connected to {spec.host}:{target}"


def _describe(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}"
    return f"connection failed: {exc.strerror or exc}"


async def _check(probe: Probe, port: int, env: Mapping[str, str] | None) -> tuple[bool, str]:
    if probe.http is not None:
        return await _http(probe.http, port)
    if probe.tcp is not None:
        return await _tcp(probe.tcp, port)
    assert probe.exec is not None  # settings validate that exactly one kind is given
    return await run_exec(probe.exec, port, env)


async def run_probe(
    probe: Probe, *, port: int, env: Mapping[str, str] | None = None
) -> ProbeOutcome:
    """Run ``probe`` once against the replica listening on ``port``; never raises on failure.

    ``env`` (exec probes) is added to Vigil's environment, typically the replica's own variables.
    """
    started = time.perf_counter()
    try:
        async with asyncio.timeout(probe.timeout):
            ok, detail = await _check(probe, port, env)
    except TimeoutError:
        elapsed = time.perf_counter() - started
        return ProbeOutcome(False, elapsed, f"timed out after {probe.timeout:g}s", timed_out=True)
    except OSError as exc:
        return ProbeOutcome(False, time.perf_counter() - started, _describe(exc))
    except _BadResponse as exc:
        return ProbeOutcome(False, time.perf_counter() - started, f"bad response: {exc}")
    return ProbeOutcome(ok, time.perf_counter() - started, detail)
