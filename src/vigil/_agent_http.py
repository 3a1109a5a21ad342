"""The node agent's HTTP client: POSTs through the standard library's ``http.client``.

Used by :class:`vigil.agent.Agent` for its heartbeats and log batches (:func:`agent_client`).
httpx did this job at ~7 MB of the agent's memory (issue 5: its import 3.7 MB; its client's TLS
context, loaded even for an ``http://`` controller, and anyio's ~4 MB more); ``http.client``
costs ~0.3 MB, and a TLS context is made only for ``https://``.

``http.client`` blocks, so each request runs in one of :data:`THREADS` worker threads of the
client's own executor while the event loop goes on. Kept from httpx as the agent used it: TLS
verified against certifi's bundle (``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set); the timeout
bounds each phase (connect with TLS, each send, each read); no retry (the agent keeps unsent
samples and batches itself); keep-alive connections reused, the most recently used first.
Not done here: proxies. With ``HTTP_PROXY``, ``HTTPS_PROXY`` or ``ALL_PROXY`` set,
:func:`agent_client` gives an httpx client, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import ipaddress
import json
import os
import re
import select
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MAX_ANSWER = 16 * 1024 * 1024
"""Bytes of an answer body read at most: the controller answers a few hundred bytes; a server
that streams without end must not grow the agent's memory."""
THREADS = 2
"""Requests in flight at once, one thread each: the agent sends at most one heartbeat and one
log batch at a time, so a heartbeat never waits behind a slow log batch (30 s per phase)."""
MAX_IDLE = THREADS
"""Idle keep-alive connections kept per controller: as many as requests go at once."""
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")

Origin = tuple[str, str, int]
"""(scheme, host, port): the connections to one origin are interchangeable."""


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


class AgentHttp:
    """POSTs to one or a few origins over pooled keep-alive connections, each request in a
    worker thread. The pool is shared by the threads (under a lock)."""

    def __init__(self) -> None:
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._busy: dict[http.client.HTTPConnection, socket.socket] = {}
        """Connections in use, with their sockets (http.client forgets its socket when the
        answer ends with the connection; the answer still reads from it)."""
        self._lock = threading.Lock()
        self._closed = False
        self._tls: ssl.SSLContext | None = None
        self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="vigil-agent-http")

    async def __aenter__(self) -> AgentHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; a request in flight (its caller cancelled) ends at once
        with an error, so that its thread does not hold the interpreter's exit."""
        with self._lock:
            self._closed = True
            idle = [conn for pool in self._idle.values() for conn in pool]
            self._idle.clear()
            busy = list(self._busy.values())
        for conn in idle:
            conn.close()
        for sock in busy:  # shutdown, not close: it wakes a thread blocked in recv
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._threads.shutdown(wait=False)

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
        try:
            parts = urllib.parse.urlsplit(url)
            origin = (parts.scheme, parts.hostname or "", parts.port or _port(parts.scheme))
        except ValueError as exc:  # an unclosed [, a port out of range or not a number
            raise HttpError(f"bad URL {url!r}: {exc}") from exc
        if origin[0] not in ("http", "https") or not origin[1]:
            raise HttpError(f"cannot POST to {url!r}: an http(s) URL is needed")
        host = parts.netloc.rpartition("@")[2]
        fields = {"host": host, "accept": "*/*", "user-agent": "vigil-agent"}
        for name, value in head.items():
            if any(c in name + value for c in "\r\n\0"):
                raise HttpError(f"header {name!r}: a line break or NUL cannot be sent")
            if name not in ("host", "content-length"):  # ours (http.client counts the body)
                fields[name] = value
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        loop = asyncio.get_running_loop()
        request = (origin, target, fields, content or b"", timeout)
        return await loop.run_in_executor(self._threads, self._post, *request)

    def _post(
        self, origin: Origin, target: str, fields: dict[str, str], body: bytes, timeout: float
    ) -> Response:
        """One request and its answer, in a worker thread."""
        conn = self._take(origin, timeout)
        try:
            conn.request("POST", target, body, fields)
            with conn.getresponse() as answer:  # closed when read, or on an error
                if answer.status < 200:  # http.client skips 100 Continue, not the other 1xx
                    raise HttpError(f"an interim answer (HTTP {answer.status}), no final one")
                if answer.length is not None and answer.length > MAX_ANSWER:
                    raise HttpError(f"answer of {answer.length} bytes (at most {MAX_ANSWER} read)")
                # read() raises IncompleteRead when a Content-Length is not met
                content = (
                    answer.read() if answer.length is not None else answer.read(MAX_ANSWER + 1)
                )
                if len(content) > MAX_ANSWER:
                    raise HttpError(f"answer over {MAX_ANSWER} bytes; not read further")
        except Exception as exc:
            self._release(origin, conn, reuse=False)
            if isinstance(exc, HttpError):
                raise
            raise HttpError(_why(exc, timeout)) from exc
        # http.client closed the connection itself when the answer ends it (will_close)
        self._release(origin, conn, reuse=conn.sock is not None)
        headers = {name.lower(): value for name, value in answer.getheaders()}
        return Response(answer.status, headers, content)

    def _take(self, origin: Origin, timeout: float) -> http.client.HTTPConnection:
        """An idle connection the server has not closed, or a new one."""
        with self._lock:
            pool = self._idle.get(origin, [])
            while pool:
                conn = pool.pop()
                if conn.sock is not None and not _readable(conn.sock):
                    conn.sock.settimeout(timeout)  # it was made with the last caller's
                    self._busy[conn] = conn.sock
                    return conn
                conn.close()  # the server closed it while idle (uvicorn does after 5 s)
        scheme, host, port = origin
        conn = (
            http.client.HTTPSConnection(host, port, timeout=timeout, context=self._context())
            if scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=timeout)
        )
        try:
            conn.connect()
        except OSError as exc:  # ssl.SSLError is one
            raise HttpError(f"cannot connect to {host}:{port}: {_why(exc, timeout)}") from exc
        with self._lock:
            if self._closed:
                conn.close()
                raise HttpError("the client was closed")
            self._busy[conn] = conn.sock
        return conn

    def _release(self, origin: Origin, conn: http.client.HTTPConnection, *, reuse: bool) -> None:
        with self._lock:
            self._busy.pop(conn, None)
            if reuse and not self._closed:
                pool = self._idle.setdefault(origin, [])
                pool.append(conn)
                if len(pool) <= MAX_IDLE:
                    return
                conn = pool.pop(0)  # the least recently used goes
        conn.close()

    def _context(self) -> ssl.SSLContext:
        """httpx's default verification: SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle."""
        if self._tls is None:  # two threads may both make one: the same, once
            if os.environ.get("SSL_CERT_FILE"):
                tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                tls = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi  # httpx's own dependency: the same bundle as before

                tls = ssl.create_default_context(cafile=certifi.where())
            tls.set_alpn_protocols(["http/1.1"])
            self._tls = tls
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


def _readable(sock: socket.socket) -> bool:
    """True when an idle connection has something to read: the server's FIN (it closed the
    connection) or bytes nobody asked for; either way it cannot carry another request."""
    poll = select.poll()  # not select.select: no limit on the descriptor's number
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))


def _why(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return "the server closed the connection before answering in full"
    if isinstance(exc, http.client.BadStatusLine | http.client.UnknownProtocol):
        return f"not an HTTP/1.x answer: {str(exc).strip()[:80]!r}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
