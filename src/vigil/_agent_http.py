"""The node agent's HTTP client: HTTP/1.1 POSTs on asyncio streams, standard library only.

Used by :class:`vigil.agent.Agent` for its heartbeats and log batches (:func:`agent_client`).
httpx did this job at ~7 MB of the agent's memory (issue 5: its import 3.7 MB; its client's TLS
context, loaded even for an ``http://`` controller, and anyio's ~4 MB more); this client imports
nothing the agent does not already load, and makes a TLS context only for ``https://``.

Kept from httpx as the agent used it: TLS verified against certifi's bundle (``SSL_CERT_FILE``
or ``SSL_CERT_DIR`` when set); the timeout bounds each phase (connect with TLS, sending, each
read); no retry (the agent keeps unsent samples and batches itself); keep-alive connections
reused, the most recently used first. Not done here: proxies. With ``HTTP_PROXY``,
``HTTPS_PROXY`` or ``ALL_PROXY`` set, :func:`agent_client` gives an httpx client, as before.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import ssl
import urllib.parse
import zlib
from collections.abc import Mapping
from typing import Any

MAX_ANSWER = 16 * 1024 * 1024
"""Bytes of an answer body read at most: the controller answers a few hundred bytes; a server
that streams without end must not grow the agent's memory."""
MAX_IDLE = 4
"""Idle keep-alive connections kept per controller (the agent uses one or two at a time)."""
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class HttpError(Exception):
    """No answer: the connection, TLS, a timeout or the answer's framing failed."""


class Response:
    """An answer: status, headers (lower-case names), body."""

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        """The body decoded by its charset (UTF-8 by default), undecodable bytes replaced."""
        kind = self.headers.get("content-type", "")
        charset = kind.partition("charset=")[2].split(";")[0].strip().strip('"') or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know: UTF-8, as httpx does
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not (as httpx's)."""
        return json.loads(self.content)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class AgentHttp:
    """POSTs to one or a few origins over pooled keep-alive connections."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def __aenter__(self) -> AgentHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for pool in self._idle.values():
            for _, writer in pool:
                writer.close()
        self._idle.clear()

    async def post(
        self,
        url: str,
        *,
        content: bytes | None = None,
        json: Any = None,  # httpx's name (it shadows the module here), so either client fits
        headers: Mapping[str, str] | None = None,
        timeout: float,  # noqa: ASYNC109 - per phase, as httpx's
    ) -> Response:
        """POST ``content`` (or ``json``, encoded as httpx does) to ``url``; HttpError when no
        answer came."""
        head = {k.lower(): v for k, v in (headers or {}).items()}
        if json is not None:
            content = _json_body(json)
            head.setdefault("content-type", "application/json")
        body = content or b""
        try:
            parts = urllib.parse.urlsplit(url)
            origin = (parts.scheme, parts.hostname or "", parts.port or _port(parts.scheme))
        except ValueError as exc:  # an unclosed [, a port out of range or not a number
            raise HttpError(f"bad URL {url!r}: {exc}") from exc
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = _request(target, parts.netloc.rpartition("@")[2], head, body)
        conn = await self._connect(origin, timeout)
        try:
            conn[1].write(request)
            await asyncio.wait_for(conn[1].drain(), timeout)
            answer, reuse = await _read(conn[0], timeout)
        except BaseException as exc:
            conn[1].close()
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            raise HttpError(_why(exc, timeout)) from exc
        if reuse:
            self._release(origin, conn)
        else:
            conn[1].close()
        return answer

    async def _connect(self, origin: tuple[str, str, int], timeout: float) -> Connection:  # noqa: ASYNC109
        pool = self._idle.get(origin, [])
        while pool:
            reader, writer = pool.pop()
            if not (reader.at_eof() or writer.is_closing()):  # the server did not close it
                return reader, writer
            writer.close()
        scheme, host, port = origin
        if scheme not in ("http", "https") or not host:
            raise HttpError(f"cannot POST to {scheme}://{host}: an http(s) URL is needed")
        tls = self._context() if scheme == "https" else None
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
                timeout,
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise HttpError(f"cannot connect to {host}:{port}: {_why(exc, timeout)}") from exc

    def _release(self, origin: tuple[str, str, int], conn: Connection) -> None:
        pool = self._idle.setdefault(origin, [])
        pool.append(conn)
        while len(pool) > MAX_IDLE:
            pool.pop(0)[1].close()

    def _context(self) -> ssl.SSLContext:
        """httpx's default verification: SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle."""
        if self._tls is None:
            if os.environ.get("SSL_CERT_FILE"):
                self._tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self._tls = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi  # httpx's own dependency: the same bundle as before

                self._tls = ssl.create_default_context(cafile=certifi.where())
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls


def plain_url(url: str) -> bool:
    """True when ``url`` is plainly one this client can POST to: http(s), a host that is an
    ASCII name or an IP address, a valid port, no space or control character. ``vigil agent``
    checks ``--controller`` with it before asking httpx why another URL is wrong (importing
    httpx only then)."""
    if any(c.isspace() or not c.isprintable() or not c.isascii() for c in url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return False
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return all(_LABEL.fullmatch(label) for label in host.rstrip(".").split("."))


def proxied(environ: Mapping[str, str] = os.environ) -> bool:
    """True when a proxy is configured in the environment (httpx honours it; this client not)."""
    return any(environ.get(name) or environ.get(name.upper()) for name in PROXY_VARIABLES)


def agent_client() -> Any:
    """The agent's client: :class:`AgentHttp`, or httpx's when a proxy is set (the agent went
    through the proxy before; this client does not speak to proxies)."""
    if proxied():
        import httpx

        return httpx.AsyncClient()
    return AgentHttp()


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _json_body(value: Any) -> bytes:
    """JSON as httpx 0.28 encodes ``json=``: compact, UTF-8, NaN refused."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def _request(target: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"host: {host}", "accept: */*", "user-agent: vigil-agent"]
    for name, value in headers.items():
        if name in ("host", "content-length"):
            continue  # ours
        if any(c in name + value for c in "\r\n\0"):
            raise HttpError(f"header {name!r}: a line break or NUL cannot be sent")
        lines.append(f"{name}: {value}")
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read(reader: asyncio.StreamReader, timeout: float) -> tuple[Response, bool]:  # noqa: ASYNC109
    """The answer, and whether the connection can carry another request."""
    while True:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit() or not "100" <= code <= "599":
            raise HttpError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        status = int(code)
        if status >= 200 or status == 101:
            break  # 1xx (100 Continue) answers come before the real one
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _chunked(reader, timeout)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= MAX_ANSWER:
            raise HttpError(f"answer of {length} bytes (at most {MAX_ANSWER} read)")
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
    else:  # the body ends with the connection
        body = await _till_closed(reader, timeout)
        keep = False
    if headers.get("content-encoding", "").lower() == "gzip":  # not asked for; httpx inflates it
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = inflate.decompress(body, MAX_ANSWER)
        if inflate.unconsumed_tail:
            raise HttpError(f"answer over {MAX_ANSWER} bytes inflated; not read further")
    return Response(status, headers, body), keep


async def _till_closed(reader: asyncio.StreamReader, timeout: float) -> bytes:  # noqa: ASYNC109
    chunks: list[bytes] = []
    size = 0
    while chunk := await asyncio.wait_for(reader.read(64 * 1024), timeout):
        size += len(chunk)
        if size > MAX_ANSWER:
            raise HttpError(f"answer over {MAX_ANSWER} bytes; not read further")
        chunks.append(chunk)
    return b"".join(chunks)


async def _chunked(reader: asyncio.StreamReader, timeout: float) -> bytes:  # noqa: ASYNC109
    chunks: list[bytes] = []
    size = 0
    while True:
        line = await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)
        length = int(line.split(b";")[0].strip(), 16)
        if length == 0:
            break
        size += length
        if size > MAX_ANSWER:
            raise HttpError(f"answer over {MAX_ANSWER} bytes; not read further")
        chunk = await asyncio.wait_for(reader.readexactly(length + 2), timeout)
        chunks.append(chunk[:-2])
    while (await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)) != b"\r\n":
        pass  # trailer fields, unused
    return b"".join(chunks)


def _why(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the server closed the connection before answering in full"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
