"""Request bodies holding a lone UTF-16 surrogate are refused (422) naming the field.

JSON may write any code unit as an escape, ``"\\ud800"`` too: half of a surrogate pair, which no
UTF-8 text can hold. The parsers take it into a Python string, and it broke everything that
writes that string out again: a heartbeat's ``info`` made every ``GET /api/v1/nodes`` a 500 (no
JSON answer can encode it), a sample's label every read of its series, kept in the rollups
through restarts. A pair (an emoji written as two escapes) is one character and is taken.

:class:`SurrogateGuard` (installed by :func:`vigil.api.create_app`) checks JSON bodies before
the routes; the lean heartbeat path (:mod:`vigil.api._beat`) hands a body :func:`lone_surrogate`
finds something in to the app, which refuses it here. Log pushes (``/api/v1/logs``) are left to
their route, which repairs bad text in lines rather than refusing it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.api._gzip import LOGS_PATH, body_limit, over, read_capped, refuse, replay

_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A surrogate escape in the raw body: only then is the body parsed to look further."""
_LONE = re.compile("[\ud800-\udfff]")
"""A surrogate left in a parsed string: a pair is joined into one character by the parser."""


def lone_surrogate(raw: bytes) -> str | None:
    """The 422 detail for a JSON body with a lone surrogate in a key or a string (the first
    one found, its place as ``body.a.0.b``), or None (also for a body that is no JSON: the
    route says what is wrong with it)."""
    if b"\\u" not in raw or not _ESCAPE.search(raw):
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ("body",))]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            found = _LONE.search(value)
            if found is not None:
                return _detail(loc, found.group(), found.start())
        elif isinstance(value, dict):
            for key, item in value.items():
                found = _LONE.search(key)
                if found is not None:
                    return _detail(loc, found.group(), found.start(), key=True)
                stack.append((item, (*loc, key)))
        elif isinstance(value, list):
            stack.extend((item, (*loc, str(i))) for i, item in enumerate(value))
    return None


def read_as_json(content_type: bytes) -> bool:
    """Whether the routes read a body of ``content_type`` (the request's first such header, as
    starlette's ``Headers.get`` takes it) as JSON: none, ``application/json`` or any
    ``application/*+json``, with any parameters (FastAPI's rule). Only ``application/json``
    was checked here, and only the last header: ``application/merge-patch+json``, or a second
    ``Content-Type: text/plain``, took a lone surrogate past this guard into the store."""
    kind = content_type.split(b";")[0].strip().lower()
    if not kind:
        return True
    main, _, sub = kind.partition(b"/")
    return main == b"application" and (sub == b"json" or sub.endswith(b"+json"))


def _detail(loc: tuple[str, ...], char: str, at: int, *, key: bool = False) -> str:
    what = "a key" if key else "the text"
    return (
        f"{'.'.join(loc)}: holds a lone UTF-16 surrogate (\\u{ord(char):04x} at character "
        f"{at + 1} of {what}), which no UTF-8 text can hold: send text as UTF-8 (a pair, as "
        "for an emoji, is fine)"
    )


class SurrogateGuard:
    """ASGI middleware: a JSON request body with a lone surrogate gets a 422 naming the field;
    any other request goes on with its body as it came (read here, at most its route's limit)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "GET" or scope["path"] == LOGS_PATH:
            await self.app(scope, receive, send)
            return
        kind = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        if not read_as_json(kind):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        raw = await read_capped(receive, limit)
        if raw is None:
            await refuse(send, 413, over(scope["path"], limit))
            return
        problem = lone_surrogate(raw)
        if problem is not None:
            await refuse(send, 422, problem)
            return
        await self.app(scope, replay(raw, receive), send)
