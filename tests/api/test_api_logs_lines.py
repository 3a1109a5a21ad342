"""A push of more lines than ``MAX_PUSH_LINES`` is a 413 whatever its content type, and nothing
of it is taken (a real LogPipeline on a real SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from apifakes import FakeControl, bearer

from _log_pipeline import Clock
from _log_pipeline import pipeline as log_pipeline
from vigil.api._logs import MAX_PUSH_LINES
from vigil.daemon import LogPipeline
from vigil.store import Store


@pytest.fixture
def pipeline(control: FakeControl, store: Store, tmp_path: Path) -> LogPipeline:
    control.logs = log_pipeline(tmp_path, store, Clock(1_700_000_000.0), {"push_max_bytes": 10**6})
    return control.logs


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_one_line_too_many_is_a_413_in_json_as_in_text(
    client: httpx.AsyncClient, pipeline: LogPipeline, content_type: str
) -> None:
    # the JSON push said 422 ("body.lines: list should have at most 100000 items") where the
    # text push and the route's documentation say 413
    def body_of(lines: list[str]) -> bytes:
        if content_type == "text/plain":
            return "".join(f"{line}\n" for line in lines).encode()
        return json.dumps({"node": "node-a", "source": "app", "lines": lines}).encode()

    url = "/api/v1/logs" + ("?node=node-a&source=app" if content_type == "text/plain" else "")
    headers = {**bearer("operator"), "Content-Type": content_type}
    resp = await client.post(url, content=body_of(["x"] * (MAX_PUSH_LINES + 1)), headers=headers)
    assert resp.status_code == 413, resp.text
    assert resp.json()["detail"] == f"more than {MAX_PUSH_LINES} lines: push smaller batches"
    assert len(pipeline.registry) == 0 and pipeline.stats == {}  # nothing of it taken
    resp = await client.post(url, content=body_of(["x"] * MAX_PUSH_LINES), headers=headers)
    assert resp.status_code == 200, resp.text  # one line fewer is taken whole
    assert resp.json()["lines"] == MAX_PUSH_LINES


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("latin-1", "café déjà vu 1\n".encode("latin-1")),
        ("utf-16", "café déjà vu 1\n".encode("utf-16")),
        ("UTF-8", "café déjà vu 1\n".encode()),
    ],
)
async def test_a_text_push_is_read_in_the_charset_it_declares(
    client: httpx.AsyncClient, pipeline: LogPipeline, charset: str, body: bytes
) -> None:
    # it was read as UTF-8 whatever it declared: each accented letter a counted invalid byte
    headers = {**bearer("operator"), "Content-Type": f"text/plain; charset={charset}"}
    resp = await client.post("/api/v1/logs?source=app", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert [t.example for t in pipeline.registry.entries()] == ["café déjà vu 1"]
    assert pipeline.stats["push/app"] == {"lines": 1}


@pytest.mark.parametrize("charset", ["klingon", "hex", "rot13"])
async def test_a_text_push_in_a_charset_unknown_here_is_a_415_naming_it(
    client: httpx.AsyncClient, pipeline: LogPipeline, charset: str
) -> None:
    headers = {**bearer("operator"), "Content-Type": f'text/plain; charset="{charset}"'}
    resp = await client.post("/api/v1/logs?source=app", content=b"a line\n", headers=headers)
    assert resp.status_code == 415, resp.text
    assert resp.json()["detail"].startswith(f"content-type charset '{charset}'")
    assert len(pipeline.registry) == 0
