"""The agent's log shipping outlives an error saving its state (a full disk, its directory
gone): the error is logged and the batch is sent once the state can be written again. The
shipping task used to end at the first such error, without a word, and no log batch was sent
for the rest of the agent's life while its heartbeats went on (real HTTP server, real files)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vigil.agent import Agent, log_edge

from ._support import eventually


class Controller(BaseHTTPRequestHandler):
    """Takes heartbeats and log batches, keeping the batches."""

    batches: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/api/v1/logs/batches":
            Controller.batches.append(json.loads(body))
            answer = b'{"lines": 1, "templates": 1, "findings": 0, "duplicate": false}'
        else:
            answer = b'{"interval": 1.0, "node_status": "up", "samples_rejected": 0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def controller() -> Iterator[str]:
    Controller.batches = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Controller)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def test_log_shipping_survives_a_state_that_cannot_be_saved(
    controller: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logfile, state = tmp_path / "app.log", tmp_path / "state"
    logfile.write_text("worker 1 started\nworker 2 started\n")
    edge = log_edge("n1", None, [str(logfile)], "auto", state)
    shutil.rmtree(state, ignore_errors=True)
    state.write_text("a file where the state directory was\n")  # saving fails now
    agent = Agent(
        controller,
        "n1",
        "tok",
        interval=0.05,
        logs=edge,
        log_poll_every=0.02,
        log_ship_every=0.05,
    )
    caplog.set_level(logging.ERROR, logger="vigil.agent")
    task = asyncio.create_task(agent.run())
    try:
        await eventually(
            lambda: "log shipping failed" in caplog.text, 10, "the save error logged", caplog.text
        )
        assert Controller.batches == []
        state.unlink()  # the directory can be made again
        await eventually(lambda: Controller.batches, 10, "a batch sent", lambda: caplog.text)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert Controller.batches[0]["templates"][0]["count"] == 2
