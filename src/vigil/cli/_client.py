"""A small HTTP client for the CLI's read commands (``vigil status``, ``vigil incidents``).

The CLI talks to a running controller over its REST API, the same way a person's scripts would.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from vigil.errors import VigilError

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8700"

_err = Console(stderr=True)


@contextlib.contextmanager
def api_errors(client: ApiClient | None = None) -> Iterator[None]:
    """Around a command's API calls and the drawing of their answers: a :class:`VigilError`
    (controller unreachable, token refused, a 4xx with its detail) is printed on stderr and the
    command exits with 1. With ``client``, so is an answer of another shape than a Vigil
    controller's (a KeyError or TypeError while reading it): something else answers at the URL,
    e.g. a Kubernetes API server, which also serves ``/api/v1/nodes``."""
    try:
        yield
    except VigilError as exc:
        _err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        if client is None:
            raise
        _err.print(
            f"{client.url} answered JSON that is not a Vigil controller's "
            f"({type(exc).__name__}: {exc}): is --url / VIGIL_URL the controller's?",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from exc


DETAIL_SHOWN = 300
"""Characters of an error body shown when it is not Vigil's ``{"detail": ...}`` (an HTML page
from a proxy in between, a list from something else listening on the port)."""


def error_detail(resp: httpx.Response) -> str:
    """What an error answer says: Vigil's ``detail``, else the start of the body on one line."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    text = " ".join(resp.text.split())
    if len(text) > DETAIL_SHOWN:
        text = text[:DETAIL_SHOWN] + f"... ({len(resp.text)} characters: not a Vigil answer?)"
    return text or "(empty body)"


def url_problem(url: str) -> str | None:
    """Why httpx cannot even parse ``url`` (an unclosed ``[``, a port that is no number), or
    None. Such a URL raised httpx.InvalidURL, which is no HTTPError: a traceback."""
    import httpx

    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"{url!r} is not a URL ({exc}): give the controller's, e.g. {DEFAULT_URL}"
    return None


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent in an ``Authorization`` header (a character that is not
    printable ASCII: httpx raised UnicodeEncodeError, a traceback), or None."""
    for i, char in enumerate(token):
        if not (char.isascii() and char.isprintable()):
            return (
                "a token is printable ASCII ('vigil token' makes one); this one has "
                f"{char!r} as character {i + 1}"
            )
    return None


class ApiClient:
    def __init__(self, url: str | None, token: str | None) -> None:
        self.url = (url or os.environ.get("VIGIL_URL") or DEFAULT_URL).rstrip("/")
        token = token or os.environ.get("VIGIL_TOKEN")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._token = token or ""

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, json=body or {})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx  # here, not at the top: ~0.1 s that commands without the API need not pay

        # checked here, inside the command's api_errors(): one line and exit 1
        problem = url_problem(self.url)
        if problem is not None:
            raise VigilError(f"--url / VIGIL_URL: {problem}")
        problem = token_problem(self._token)
        if problem is not None:
            raise VigilError(f"--token / VIGIL_TOKEN: {problem}")
        try:
            resp = httpx.request(
                method, self.url + path, headers=self._headers, timeout=10, **kwargs
            )
        except httpx.HTTPError as exc:
            raise VigilError(
                f"cannot reach the controller at {self.url}: {exc} "
                "(is `vigil up` running? set --url or VIGIL_URL)"
            ) from exc
        if resp.status_code == 401 and not self._headers:
            raise VigilError(f"{self.url} wants a token: pass --token or set VIGIL_TOKEN")
        if resp.status_code == 401:
            raise VigilError(
                f"{self.url} refused the token (HTTP 401): pass a valid --token or VIGIL_TOKEN"
            )
        if resp.status_code >= 400:
            raise VigilError(f"{method} {path}: HTTP {resp.status_code}: {error_detail(resp)}")
        try:
            return resp.json()
        except ValueError as exc:
            raise VigilError(
                f"{self.url}{path} did not answer JSON: is {self.url} a Vigil controller?"
            ) from exc
