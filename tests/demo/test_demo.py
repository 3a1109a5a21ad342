"""End to end: `vigil demo` runs its whole fault timeline, and the fake model server it uses."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from vigil.backends import free_port

VIGIL = str(Path(sys.executable).with_name("vigil"))
TAG_ENV = "VIGIL_TEST_TAG"
MODEL_SERVER = "vigil.demo.model_server"


def tagged(tag: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            mine = proc.pid != os.getpid() and proc.environ().get(TAG_ENV) == tag
            if mine and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def cmdlines(procs: list[psutil.Process]) -> list[str]:
    lines = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            lines.append(" ".join(proc.cmdline()))
    return lines


@pytest.fixture
def tag() -> Iterator[str]:
    value = f"demo-{uuid.uuid4().hex[:12]}"
    yield value
    victims = tagged(value)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=10)


@pytest.mark.slow
@pytest.mark.timeout(180)  # above the subprocess' own 120 s, so a hang fails with its output
def test_the_demo_heals_every_fault_of_its_timeline_and_leaves_nothing_running(
    tag: str,
) -> None:
    env = {**os.environ, TAG_ENV: tag, "COLUMNS": "160"}
    result = subprocess.run(
        [VIGIL, "demo"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "every injected fault ended as expected" in result.stdout
    assert "not run" not in result.stdout  # the whole timeline ran
    assert "Demo summary" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    # The demo's children carry the tag through their environment: none may outlive it.
    left = tagged(tag)
    assert left == [], f"left running: {cmdlines(left)}"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_short_demo_says_which_faults_it_did_not_run_and_exits_0(tag: str) -> None:
    # `vigil demo --duration 20` exited 1: the faults it never got to inject counted as failed.
    # 8 s: the first fault (a kill -9 at 3 s) is injected and heals, the other five are not run.
    env = {**os.environ, TAG_ENV: tag, "COLUMNS": "160"}
    result = subprocess.run(
        [VIGIL, "demo", "--duration", "8"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=100,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    dashboard = (
        r"dashboard \(live while the demo runs\): http://127\.0\.0\.1:\d+/ui/#token=\S{20,}\n"
    )
    assert re.search(dashboard, result.stdout), result.stdout[:2000]
    summary = result.stdout[result.stdout.rindex("Demo summary") :]
    rows = [line for line in summary.splitlines() if "not run" in line and "│" in line]
    assert len(rows) == 5, summary
    (kill,) = [line for line in summary.splitlines() if "kill -9 a replica" in line]
    assert kill.count("resolved") == 2, kill  # its outcome, as expected
    assert "every injected fault ended as expected (5 of the timeline not run" in summary
    assert tagged(tag) == []


class ModelServer:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", MODEL_SERVER, "--port", str(self.port), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_listening(self) -> httpx.Response:
        deadline = time.monotonic() + 10
        while True:
            try:
                return httpx.get(self.url + "/healthz", timeout=2)
            except httpx.TransportError:
                assert self.proc.poll() is None, self.proc.communicate()
                assert time.monotonic() < deadline, "the model server never listened"
                time.sleep(0.02)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def loading_server() -> Iterator[ModelServer]:
    server = ModelServer("--load-time", "2.0", "--latency-ms", "1")
    yield server
    server.close()


def test_the_model_server_is_live_at_once_and_ready_after_its_load_time(
    loading_server: ModelServer,
) -> None:
    healthz = loading_server.wait_listening()
    assert healthz.status_code == 200
    assert healthz.json() == {"status": "ok"}
    loading = httpx.get(loading_server.url + "/ready")
    assert time.monotonic() - loading_server.started < 2.0, "too slow to see it loading"
    assert loading.status_code == 503
    assert loading.json() == {"status": "loading"}
    early = httpx.post(loading_server.url + "/v1/completions", json={"prompt": "hi"})
    assert early.status_code == 503

    deadline = time.monotonic() + 15
    while (ready := httpx.get(loading_server.url + "/ready")).status_code != 200:
        assert time.monotonic() < deadline, f"never ready: {ready.status_code}"
        time.sleep(0.1)
    assert ready.json() == {"status": "ready"}

    answer = httpx.post(
        loading_server.url + "/v1/completions", json={"prompt": "say hello world"}, timeout=5
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == " ok ok ok"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 3}
    assert body["pid"] == loading_server.proc.pid

    bad = httpx.post(
        loading_server.url + "/v1/completions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert "JSON" in bad.json()["error"]
    missing = httpx.get(loading_server.url + "/v2/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no route for GET /v2/nothing"}

    loading_server.proc.terminate()
    assert loading_server.proc.wait(timeout=5) == 0, "SIGTERM is a clean stop"


def test_the_model_server_exits_1_at_start_while_the_poison_file_exists(tmp_path: Path) -> None:
    poison = tmp_path / "poison"
    poison.touch()
    port = free_port()

    result = subprocess.run(
        [sys.executable, "-m", MODEL_SERVER, "--port", str(port), "--fail-if-exists", str(poison)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert f"fatal: {poison} exists (injected fault)" in result.stderr
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "it never listened"


@pytest.mark.timeout(120)
def test_the_demo_on_an_api_port_in_use_exits_1_in_one_line_and_leaves_no_temp_dir(
    tag: str, tmp_path: Path
) -> None:
    # It raised the controller's ConfigError as a traceback (after waiting 30 s for a start
    # that had already failed) and left its /tmp/vigil-demo-* directory behind.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, TAG_ENV: tag, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
        result = subprocess.run(
            [VIGIL, "demo", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=100,
        )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    # the demo has no config file: the option the user gave is named, not the config's api.port
    assert f"vigil demo: --port {port}: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "(--port 0, the default, picks a free one)" in result.stderr
    assert list(tmp_path.glob("vigil-demo-*")) == []
    left = tagged(tag)
    assert left == [], f"left running: {cmdlines(left)}"


@pytest.mark.timeout(150)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_the_demo_stopped_by_a_signal_leaves_no_process_nor_temp_dir(
    tag: str, tmp_path: Path, sig: signal.Signals
) -> None:
    # Only SIGINT was handled: `kill`, `timeout`, a service manager (SIGTERM) or a closed
    # terminal (SIGHUP) ended the demo at once, and its three replicas, its two agents and
    # its /tmp/vigil-demo-* directory stayed.
    env = {**os.environ, TAG_ENV: tag, "TMPDIR": str(tmp_path), "COLUMNS": "160"}
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [VIGIL, "demo"], env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    try:

        def fleet_up() -> bool:
            assert proc.poll() is None, out.read_text()
            lines = cmdlines(tagged(tag))
            servers = [c for c in lines if MODEL_SERVER in c]
            agents = [c for c in lines if " agent " in c]
            return len(servers) == 3 and len(agents) == 2

        deadline = time.monotonic() + 60
        while not fleet_up():
            assert time.monotonic() < deadline, f"the demo fleet never ran: {out.read_text()}"
            time.sleep(0.1)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {out.read_text()}"
    assert "Traceback" not in out.read_text()
    left = tagged(tag)
    assert left == [], f"left running: {cmdlines(left)}"
    assert list(tmp_path.glob("vigil-demo-*")) == []
