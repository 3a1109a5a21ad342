"""The dashboard's HTTP routes: ``GET /`` redirects to ``/ui/``, which serves three static files.

:func:`vigil.daemon` mounts :data:`router` on the API app (``create_app(..., extra_routers=)``):
``web`` sits beside ``api`` in the layers, so the app factory does not import it. The page
itself is public (it holds no data); its script reads the ``/api/v1`` JSON routes with the
token the user gives it, so the API's auth is the only gate. Every answer carries a strict
Content-Security-Policy: scripts and styles come only from these files, and the script may
talk only to this origin. The routes are left out of ``/openapi.json`` (they are not API).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from vigil.errors import NotFoundError

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style, no other origin: an injected string can neither run nor phone
home, and no other site may frame the page (clickjacking)."""

_FILES: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
"""The only files served (a fixed list: no path from the URL ever reaches the file system)."""

_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # no-cache, not no-store: the browser revalidates, so an upgrade's files are seen at once
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@cache
def _read(name: str) -> bytes:
    return resources.files("vigil.web").joinpath("static", name).read_bytes()


def _redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307, headers=_HEADERS)


@router.get("/")
async def root() -> RedirectResponse:
    return _redirect()


@router.get("/ui")
async def ui_bare() -> RedirectResponse:
    return _redirect()


@router.get("/ui/")
async def index() -> Response:
    return _file("index.html")


@router.get("/ui/{name}")
async def static_file(name: str) -> Response:
    if name not in _FILES:
        raise NotFoundError("dashboard file", name)
    return _file(name)


def _file(name: str) -> Response:
    return Response(_read(name), media_type=_FILES[name], headers=_HEADERS)
