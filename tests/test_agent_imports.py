"""What a running ``vigil agent`` imports: no settings models, no httpx (issue 5's memory).

pydantic and the settings models were ~14 MB of an agent's 59-60 MB (54.6 MB when the issue was
resolved, against a target of < 60 MB): the collectors' probes imported their settings models
for annotations, and the agent imported ``LogsSettings`` for three defaults; httpx, its
client and anyio were ~7 MB more (the agent has its own client now). These tests hold
the line by what is imported, not by timing or measuring memory: a real agent process, run by
its command line, beats against a real HTTP server and ships a log batch, and the modules it
imported on the way (``python -X importtime``) are checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from vigil.agent import (
    LOG_BATCH_TEMPLATES,
    LOG_MAX_LINE_BYTES,
    LOG_POLL_EVERY,
    LOG_SAMPLES,
    LOG_SHIP_EVERY,
)
from vigil.model import NAME, is_name
from vigil.settings import LogsSettings, NodeSettings

NEVER = ("vigil.settings", "vigil.settings._models", "httpx", "httpcore", "anyio")
"""An agent run without ``--config`` and without a proxy must not import these: the
controller's configuration models (~9 MB on top of pydantic's ~5 MB), httpx and its client's
TLS context and anyio (~7 MB; the agent has its own client, :mod:`vigil._agent_http`)."""
HEAVY = ("pydantic", "pydantic_core", "prometheus_client", *NEVER)
"""Not imported by importing the agent's modules (prometheus_client: only to parse a scrape).
The command line still brings pydantic itself: typer (0.29) coerces every parameter through a
pydantic ``TypeAdapter``."""


def _imported(stderr: str) -> set[str]:
    """Module names in ``python -X importtime`` output (``import time: self | total | name``)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


async def _controller() -> tuple[asyncio.Server, dict[str, int]]:
    """A real HTTP server answering each POST as a controller would (200, a JSON object);
    counts the requests per path."""
    seen: dict[str, int] = {}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            path = head.split(b" ")[1].decode()
            seen[path] = seen.get(path, 0) + 1
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            body = json.dumps({"interval": 0.05}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0), seen


async def test_a_running_agent_following_a_log_imports_no_settings_model_nor_httpx(
    tmp_path: Path,
) -> None:
    log_file = tmp_path / "app.log"
    log_file.write_text("".join(f"worker {i} started in {i % 7} ms\n" for i in range(50)))
    server, seen = await _controller()
    port = server.sockets[0].getsockname()[1]
    argv = [sys.executable, "-X", "importtime", "-m", "vigil", "agent"]
    argv += ["--controller", f"http://127.0.0.1:{port}", "--name", "n0", "--token", "tok"]
    argv += ["--interval", "0.05", "--log", str(log_file), "--ship-every", "0.05"]
    argv += ["--state-dir", str(tmp_path / "state")]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    agent = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env
    )
    try:
        for _ in range(600):  # up to 60 s for the start-up of a loaded machine; no timing asserted
            if seen.get("/api/v1/heartbeats", 0) >= 3 and seen.get("/api/v1/logs/batches"):
                break
            await asyncio.sleep(0.1)
    finally:
        agent.terminate()
        _, err = await agent.communicate()
        server.close()
        await server.wait_closed()
    assert seen.get("/api/v1/heartbeats", 0) >= 3, err.decode()[-2000:]
    assert seen.get("/api/v1/logs/batches", 0) >= 1, err.decode()[-2000:]
    imported = _imported(err.decode())
    assert "vigil.agent" in imported
    assert "vigil.collectors._logedge" in imported  # the log edge ran in this process
    assert sorted(m for m in NEVER if m in imported) == []


def test_importing_the_agent_and_its_collectors_loads_no_settings_model() -> None:
    # The import path alone, quicker to read when it fails: which heavy module came in.
    code = (
        "import sys, vigil.cli, vigil.agent\n"
        "from vigil.collectors import GpuCollector, HostCollector, LogEdge\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_the_agents_log_defaults_are_the_settings_defaults() -> None:
    # The agent repeats them to run without the settings models; they must not drift apart.
    defaults = LogsSettings()
    assert defaults.poll_every == LOG_POLL_EVERY
    assert defaults.ship_every == LOG_SHIP_EVERY
    assert defaults.batch_templates == LOG_BATCH_TEMPLATES
    assert defaults.samples == LOG_SAMPLES
    assert defaults.max_line_bytes == LOG_MAX_LINE_BYTES


@pytest.mark.parametrize(
    "name",
    ["n0", "gpu-01.rack_2", "9", "n" * 63, "", "n" * 64, "-a", "_a", "gpu 1", "a/b", "a\n", "é"],
)
def test_the_agents_name_check_is_the_node_settings_one(name: str) -> None:
    # `vigil agent --name` checks with vigil.model.is_name, not NodeSettings (pydantic)
    assert NodeSettings.model_fields["name"].metadata[0].pattern == f"^{NAME.pattern}$"
    try:
        NodeSettings(name=name)
    except ValidationError:
        assert not is_name(name)
    else:
        assert is_name(name)
