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

from fastapi import APIRouter, Request
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

_GET_HEAD: Final = ["GET", "HEAD"]
"""HEAD is answered like GET without the body (a monitor's or a proxy's health check asks HEAD;
FastAPI's ``get`` routes answered it 405)."""


@cache
def _read(name: str) -> bytes:
    return resources.files("vigil.web").joinpath("static", name).read_bytes()


def _redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307, headers=_HEADERS)


@router.api_route("/", methods=_GET_HEAD)
async def root() -> RedirectResponse:
    return _redirect()


@router.api_route("/ui", methods=_GET_HEAD)
async def ui_bare() -> RedirectResponse:
    return _redirect()


@router.api_route("/ui/", methods=_GET_HEAD)
async def index(request: Request) -> Response:
    return _file("index.html", request.method)


@router.api_route("/ui/{name}", methods=_GET_HEAD)
async def static_file(name: str, request: Request) -> Response:
    if name not in _FILES:
        raise NotFoundError("dashboard file", name)
    return _file(name, request.method)


def _file(name: str, method: str) -> Response:
    body = _read(name)
    if method == "HEAD":  # the headers GET would send, its length included, and no body
        headers = {**_HEADERS, "Content-Length": str(len(body))}
        return Response(b"", media_type=_FILES[name], headers=headers)
    return Response(body, media_type=_FILES[name], headers=_HEADERS)
