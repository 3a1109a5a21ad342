"""A scrape target or Prometheus server whose URL carries a password (``http://user:pass@host``,
basic auth, the one way to reach a protected exporter): the password never reaches the log or
the source's problem, which name the URL with ``<secret>`` in its place, as Prometheus does.
Real sockets; the exporter checks that the credentials are sent."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from vigil.collectors import redacted
from vigil.daemon._scrape import SourceLoop
from vigil.settings import PromQuery, ScrapeTarget

from .test_scrape_problems import Exporter

PASSWORD = "s3cret-Pa55"


class AuthExporter(Exporter):
    """The exporter, noting the Authorization header of each request."""

    def __init__(self) -> None:
        super().__init__()
        self.authorization: list[str] = []

    async def _serve(self, reader, writer) -> None:  # type: ignore[no-untyped-def]
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        for line in head.split("\r\n"):
            if line.lower().startswith("authorization:"):
                self.authorization.append(line.split(":", 1)[1].strip())
        head_out = f"HTTP/1.1 {self.status} X\r\ncontent-type: text/plain\r\n"
        writer.write(f"{head_out}content-length: {len(self.body)}\r\n\r\n".encode() + self.body)
        await writer.drain()
        writer.close()


def with_password(url: str) -> str:
    return url.replace("http://", f"http://scraper:{PASSWORD}@", 1)


@pytest.mark.parametrize("kind", ["scrape", "promql"])
async def test_a_password_in_a_source_url_is_never_logged(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = AuthExporter()
    exporter.status, exporter.body = 401, b"unauthorized"
    caplog.set_level(logging.INFO, "vigil.daemon")
    async with exporter as url, httpx.AsyncClient() as client:
        secret_url = with_password(url)
        source = (
            ScrapeTarget(name="exp", url=secret_url)
            if kind == "scrape"
            else PromQuery(name="up", server=secret_url.removesuffix("/metrics"), query="up")
        )
        loop = SourceLoop(source, lambda samples: [])
        await loop.once(client)

    basic = base64.b64encode(f"scraper:{PASSWORD}".encode()).decode()
    assert exporter.authorization == [f"Basic {basic}"], "the credentials are sent"
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "failing" in said or "401" in said, said
    for text in (said, loop.failing or "", loop.what):
        assert PASSWORD not in text, text
        assert "scraper:<secret>@127.0.0.1" in text, text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:p4ss@h:9100/metrics", "http://u:<secret>@h:9100/metrics"),
        ("https://:p4ss@h/x?a=1", "https://:<secret>@h/x?a=1"),
        ("http://u@h/metrics", "http://u@h/metrics"),
        ("http://h:9100/metrics?u=a@b", "http://h:9100/metrics?u=a@b"),
        ("http://u:p4ss@[::1/metrics", "http://<secret>@[::1/metrics"),
    ],
    ids=["user-password", "password-only", "user-only", "at-in-query", "unsplittable"],
)
def test_a_url_is_shown_with_its_password_hidden(url: str, shown: str) -> None:
    assert redacted(url) == shown
