"""Compressed request bodies: an ASGI middleware that inflates ``Content-Encoding: gzip``.

Installed by :func:`vigil.api.create_app`; :func:`inflate` is also used by the lean heartbeat
path (:mod:`vigil.api._beat`). Node agents gzip their heartbeat + samples batches
(text JSON shrinks ~10x), so the controller reads a tenth of the bytes. The inflated size is
capped at :data:`MAX_INFLATED` (a small compressed body can expand enormously: a "zip bomb"),
and a body that is not gzip gets a one-line 400 saying so. Other encodings are refused with 415.
A body (compressed or not, log pushes aside: their route has its own bound) of more than its
route's limit (:func:`body_limit`: :data:`MAX_INFLATED` for agents' bulk routes,
:data:`ROUTE_BODY` for the others) is refused with 413 without being read, and a gzip body may
inflate to no more than that limit either. The controller's ``BodyLimit``
(:mod:`vigil.daemon._server`) applies the same limits to the bytes on the wire, chunked or not.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_INFLATED = 64 * 1024 * 1024
"""Bytes a compressed request may inflate to: 10,000 samples of ~200 bytes is 2 MB, so 64 MB
is far beyond any honest batch."""
ROUTE_BODY = 1024 * 1024
"""Bytes a request body may hold on the routes that take a command, a drain, a placement or a
maintenance request (JSON of a few KB): only agents' bulk routes (:data:`BULK_PATHS`) take more.
Without it, a chunked body to such a route was read whole (64 MiB) before the route looked."""


class GzipRequestMiddleware:
    def __init__(self, app: ASGIApp, *, max_inflated: int = MAX_INFLATED) -> None:
        self.app = app
        self.max_inflated = max_inflated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        encoding = headers.get(b"content-encoding", b"identity").decode("latin-1").strip().lower()
        limit = body_limit(scope["path"], self.max_inflated)
        if too_long(headers, limit) and not scope["path"].startswith(LOGS_PATH):
            # refused before a byte of it is read: the app would have read it all into memory
            # (a 10 GB body, before any token is checked, took the controller down)
            await refuse(send, 413, over(scope["path"], limit))
            return
        if encoding in ("", "identity"):
            await self.app(scope, receive, send)
            return
        if encoding != "gzip":
            await refuse(
                send,
                415,
                f"header.Content-Encoding: {encoding!r} is not supported; "
                "send gzip or an uncompressed body",
            )
            return
        raw = await read_capped(receive, limit)
        if raw is None:
            await refuse(send, 413, over(scope["path"], limit))
            return
        try:
            body = inflate(raw, limit)
        except zlib.error as exc:
            await refuse(send, 400, f"body: Content-Encoding is gzip but the body is not ({exc})")
            return
        except OverflowError:
            await refuse(send, 413, over(scope["path"], limit, "inflates to more than"))
            return
        scope = dict(scope)
        scope["headers"] = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ] + [(b"content-length", str(len(body)).encode())]
        await self.app(scope, replay(body, receive), send)


LOGS_PATH = "/api/v1/logs"
"""Log pushes have their own bound (``logs.push_max_bytes``), enforced by their route."""
BULK_PATHS = frozenset({"/api/v1/heartbeats", "/api/v1/samples", "/api/v1/logs/batches", LOGS_PATH})
"""Agents' and shippers' batches: up to :data:`MAX_INFLATED` (a log push: its own bound)."""


def body_limit(path: str, bulk: int = MAX_INFLATED) -> int:
    """The most bytes a request body to ``path`` may hold: ``bulk`` on :data:`BULK_PATHS`,
    :data:`ROUTE_BODY` elsewhere."""
    return bulk if path in BULK_PATHS else min(bulk, ROUTE_BODY)


def over(path: str, limit: int, verb: str = "more than") -> str:
    """The detail of a 413: the body, the limit and what to do."""
    return f"body: {verb} {limit} bytes, the most {path} takes: send less at once"


def too_long(headers: dict[bytes, bytes], limit: int) -> bool:
    """Whether the request's Content-Length announces more than ``limit`` bytes."""
    try:
        return int(headers.get(b"content-length", b"0")) > limit
    except ValueError:  # not a number: the server has refused it already
        return False


async def read_capped(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` bytes (the rest is not read)."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def inflate(data: bytes, limit: int = MAX_INFLATED) -> bytes:
    """The gzip body ``data`` inflated, every member of it (RFC 1952 allows several, one after
    the other: ``cat a.gz b.gz``); zlib.error if it is not gzip or is cut short inside a member,
    OverflowError past ``limit`` bytes in all (checked while inflating: a bomb never reaches
    memory whole). One member only used to be read: the lines of the others were dropped
    without a word, and so was a body cut short."""
    if not data:  # empty in any encoding: the route says what it misses
        return b""
    parts: list[bytes] = []
    left = limit
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        part = inflater.decompress(rest, left + 1)
        if len(part) > left or inflater.unconsumed_tail:
            raise OverflowError(f"inflates to more than {limit} bytes")
        if not inflater.eof:
            raise zlib.error("it ends inside a gzip member (cut short?)")
        parts.append(part)
        left -= len(part)
        rest = inflater.unused_data
        if not rest:
            return b"".join(parts)


async def refuse(send: Send, status: int, detail: str) -> None:
    """Answer ``status`` with a JSON ``detail`` (the request is not passed on)."""
    payload: dict[str, Any] = {"detail": detail}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def replay(raw: bytes, receive: Receive) -> Receive:
    """A receive that gives the app ``raw`` as the whole body (already read, or inflated),
    then the connection's further messages (a disconnect)."""
    return replay_message({"type": "http.request", "body": raw, "more_body": False}, receive)


def replay_message(message: Message, receive: Receive) -> Receive:
    """A receive that gives ``message`` first, then the connection's further messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return message

    return replayed
