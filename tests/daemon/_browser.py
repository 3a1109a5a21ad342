"""Headless chromium for the dashboard's tests: the DOM after a page ran, and a small DevTools
protocol client (over ``--remote-debugging-pipe``: no port, no extra package) to fill in a form.

Used by tests/daemon/test_dashboard_browser.py. Without chromium the tests skip naming it; under
CI (``CI=true``) they fail instead, as the PostgreSQL tests do (tests/_postgres.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from _postgres import in_ci


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "chromium is not installed (Debian: apt-get install -y chromium)"
        if in_ci():
            pytest.fail(f"the dashboard's browser tests cannot run under CI: {reason}")
        pytest.skip(f"dashboard browser tests skipped: {reason}")
    return path


class Dom(HTMLParser):
    """What the tests look at in the dumped DOM: table rows by table, hidden ids, tags seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self.hidden: set[str] = set()
        self.tags: set[str] = set()
        self.title = ""
        self.text: list[str] = []
        self._tables: list[str] = []
        self._cell: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        self.tags.add(tag)
        if "hidden" in attr and attr.get("id"):
            self.hidden.add(str(attr["id"]))
        if tag == "table":
            self._tables.append(str(attr.get("id") or attr.get("class") or "?"))
        elif tag == "tr" and self._tables:
            self.rows.setdefault(self._tables[-1], []).append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "title" and not self.title:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._tables:
            self._tables.pop()
        elif tag in ("td", "th") and self._cell is not None and self._tables:
            self.rows[self._tables[-1]][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


def render(url: str, profile: Path, budget_ms: int = 8000) -> Dom:
    """The DOM chromium built for ``url`` after ``budget_ms`` of virtual time (8 s)."""
    argv = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",  # the page's console: errors and CSP refusals
        "--v=0",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    problems = [line for line in console if "Uncaught" in line or "Content Security Policy" in line]
    assert not problems, problems  # a script error, or something the CSP blocked
    dom = Dom()
    dom.feed(done.stdout)
    return dom


class Browser:
    """One headless chromium driven over the DevTools protocol on a pipe (fds 3 and 4).

    Messages are JSON objects ended by a NUL byte; one page target, attached in flat mode.
    """

    def __init__(self, profile: Path) -> None:
        to_chrome, self._out_fd = os.pipe()
        self._in_fd, from_chrome = os.pipe()
        # bash puts the pipe ends on the fds chromium reads (3) and writes (4)
        script = f'exec "$0" "$@" 3<&{to_chrome} 4>&{from_chrome}'
        self.proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_chrome, from_chrome),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._out_fd, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._in_fd, 65536)
                if not chunk:
                    raise AssertionError(f"chromium closed its DevTools pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply["result"])

    def open(self, url: str) -> None:
        self.call("Page.navigate", self._session, url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (an exception fails the test)."""
        result = self.call(
            "Runtime.evaluate", self._session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # it may close the pipe before answering
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._out_fd)
        os.close(self._in_fd)
