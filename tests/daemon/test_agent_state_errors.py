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

from vigil.agent import LOG_RETRY_MAX, LOG_RETRY_MIN, Agent, log_edge, retry_delay
from vigil.collectors import LogEdge

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


def two_line_log(tmp_path: Path, state: Path) -> LogEdge:
    """The follower of ``tmp_path/app.log`` (two lines of one template), its state in ``state``."""
    logfile = tmp_path / "app.log"
    logfile.write_text("worker 1 started\nworker 2 started\n")
    edge = log_edge("n1", None, [str(logfile)], "auto", state)
    assert edge is not None
    return edge


def shipping_agent(controller: str, edge: LogEdge) -> Agent:
    """Node n1's agent, polling ``edge`` and shipping its batches to ``controller`` quickly."""
    return Agent(
        controller,
        "n1",
        "tok",
        interval=0.05,
        logs=edge,
        log_poll_every=0.02,
        log_ship_every=0.05,
    )


async def test_log_shipping_survives_a_state_that_cannot_be_saved(
    controller: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    edge = two_line_log(tmp_path, state)
    shutil.rmtree(state, ignore_errors=True)
    state.write_text("a file where the state directory was\n")  # saving fails now
    agent = shipping_agent(controller, edge)
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


async def test_log_shipping_survives_an_error_that_is_not_an_os_error(
    controller: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Only OSError was caught: any other exception (a bug in a parser, a corrupt state) ended
    # the shipping task without a word while the heartbeats went on.
    state = tmp_path / "state"
    edge = two_line_log(tmp_path, state)
    real_poll = edge.poll
    broken = {"left": 3}

    def poll() -> None:
        if broken["left"] > 0:
            broken["left"] -= 1
            raise RuntimeError("a bug in a parser")
        real_poll()

    edge.poll = poll  # type: ignore[method-assign]
    agent = shipping_agent(controller, edge)
    caplog.set_level(logging.INFO, logger="vigil.agent")
    task = asyncio.create_task(agent.run())
    try:
        await eventually(
            lambda: Controller.batches and "works again" in caplog.text,
            20,
            "a batch sent, and the recovery logged",
            lambda: caplog.text,
        )
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert broken["left"] == 0
    assert agent.log_failures == 3
    failed = [r for r in caplog.records if "log shipping failed" in r.getMessage()]
    assert len(failed) == 3
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failed)  # with its traceback
    assert "a bug in a parser" in failed[0].getMessage()
    assert "works again after 3 failed rounds" in caplog.text
    assert Controller.batches[0]["templates"][0]["count"] == 2


@pytest.mark.parametrize(
    ("every", "failures", "delay"),
    [
        (0.5, 0, 0.5),  # working: the poll period
        (0.5, 1, 0.5),
        (0.5, 2, 1.0),
        (0.5, 4, 4.0),
        (0.5, 100, LOG_RETRY_MAX),  # capped, no overflow
        (0.0, 1, LOG_RETRY_MIN),  # a zero poll period never spins on a fault
        (0.0, 0, 0.0),
        (120.0, 3, 120.0),  # never shorter than the poll period
    ],
)
def test_the_retry_delay_doubles_per_failed_round_up_to_a_cap(
    every: float, failures: int, delay: float
) -> None:
    assert retry_delay(every, failures) == pytest.approx(delay)
