"""The CLI's API client against servers that are not a Vigil controller (a proxy's HTML error
page, something else on the port answering a JSON list): a one-line error, never a traceback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.cli._client import DETAIL_SHOWN, ApiClient
from vigil.errors import VigilError

PAGE = b"<html><body>" + b"<p>Bad gateway</p>\n" * 500 + b"</body></html>"
BODIES = {
    "/list": (500, "application/json", b'["not", "an", "object"]'),
    "/html": (502, "text/html", PAGE),
    "/vigil": (404, "application/json", b'{"detail": "no replica llm/9"}'),
    "/empty": (503, "text/plain", b""),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, kind, body = BODIES[self.path]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def error_of(url: str, path: str) -> str:
    with pytest.raises(VigilError) as caught:
        ApiClient(url, "t" * 20).get(path)
    return str(caught.value)


def test_error_answers_that_are_not_vigils_become_one_short_line() -> None:
    with server() as url:
        assert error_of(url, "/vigil") == "GET /vigil: HTTP 404: no replica llm/9"
        assert error_of(url, "/list") == 'GET /list: HTTP 500: ["not", "an", "object"]'
        html = error_of(url, "/html")
        assert "\n" not in html and html.startswith("GET /html: HTTP 502: <html><body><p>Bad")
        assert len(html) < DETAIL_SHOWN + 100 and "not a Vigil answer?" in html
        assert error_of(url, "/empty") == "GET /empty: HTTP 503: (empty body)"
