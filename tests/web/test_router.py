"""The dashboard's routes on their own: files, content types, the CSP header, the redirects, and
that no path from the URL reaches the file system."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from vigil import web
from vigil.api._errors import install_error_handlers


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(web.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
        yield client


def packaged(name: str) -> bytes:
    return resources.files("vigil.web").joinpath("static", name).read_bytes()


@pytest.mark.parametrize(
    ("path", "name", "content_type"),
    [
        ("/ui/", "index.html", "text/html; charset=utf-8"),
        ("/ui/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "app.css", "text/css; charset=utf-8"),
    ],
)
async def test_each_file_is_served_with_its_type_and_a_strict_csp(
    http: httpx.AsyncClient, path: str, name: str, content_type: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 200
    assert response.content == packaged(name)
    assert response.headers["content-type"] == content_type
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/ui"])
async def test_the_root_and_the_bare_prefix_redirect_to_the_page(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


async def test_an_unknown_file_is_a_404_that_names_it(http: httpx.AsyncClient) -> None:
    response = await http.get("/ui/nope.js")
    assert response.status_code == 404
    assert response.json() == {"detail": "no dashboard file named 'nope.js'"}


@pytest.mark.parametrize(
    "path", ["/ui/..%2F_router.py", "/ui/%2E%2E%2F__init__.py", "/ui/static", "/ui/static/app.js"]
)
async def test_no_path_from_the_url_reaches_the_file_system(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 404
    assert "vigil" not in response.text  # no Python source (nor a packaged file) came back


def test_the_page_loads_only_its_own_files_and_nothing_inline() -> None:
    html = packaged("index.html").decode()
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["/ui/app.js"]
    assert re.findall(r'<link[^>]*href="([^"]+)"', html) == ["/ui/app.css"]
    assert not re.search(r"<script[^>]*>\s*[^<\s]", html), "inline script (the CSP blocks it)"
    assert " style=" not in html and "<style" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html


def test_the_script_never_parses_api_strings_as_markup() -> None:
    """Names, reasons and summaries are user-controlled: the script writes text, never HTML."""
    script = packaged("app.js").decode()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "https://" not in script  # nothing fetched from elsewhere


def test_pyproject_ships_every_static_file_as_package_data() -> None:
    """``pip install .`` (not only an editable install) must carry the page's files."""
    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["vigil"]
    static = root / "src" / "vigil" / "web" / "static"
    files = sorted(p.relative_to(root / "src" / "vigil").as_posix() for p in static.iterdir())
    assert files == ["web/static/app.css", "web/static/app.js", "web/static/index.html"]
    for name in files:
        assert any(fnmatch.fnmatch(name, glob) for glob in globs), name


@pytest.mark.parametrize("path", ["/ui/", "/ui/app.js", "/ui/app.css"])
async def test_head_is_answered_like_get_without_the_body(
    http: httpx.AsyncClient, path: str
) -> None:
    got = await http.get(path)
    head = await http.head(path)
    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    for name in ("content-type", "content-security-policy", "cache-control"):
        assert head.headers[name] == got.headers[name]
    assert (await http.head("/ui")).status_code == 307
    assert (await http.head("/ui/nope.js")).status_code == 404
