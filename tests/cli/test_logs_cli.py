"""`vigil logs top` and `vigil logs findings` against a running controller (in this process,
its API on a real socket), fed by a push of real lines."""

from __future__ import annotations

import asyncio
import resource
import secrets
import string
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from vigil.daemon import Controller
from vigil.settings import Settings

from .conftest import VIGIL, Cli

OPERATOR = "cli-operator-" + secrets.token_urlsafe(16)


@pytest.fixture
async def controller(tmp_path: Path) -> AsyncIterator[Controller]:
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "api": {"port": 0, "tokens": [{"name": "op", "role": "operator", "token": OPERATOR}]},
            "logs": {"analysis": {"warmup_lines": 10, "warmup_seconds": 0}},
        }
    )
    ctl = Controller(settings, base_dir=tmp_path)
    task = asyncio.create_task(ctl.run())
    await asyncio.wait_for(ctl.started.wait(), 30)
    yield ctl
    ctl.stop()
    await asyncio.wait_for(task, 30)


LINES = [f"2024-05-01 12:00:00 INFO request {i} served in {i % 9} ms" for i in range(40)] + [
    "2024-05-01 12:00:01 ERROR Xid 79 on GPU 3: fell off the bus"
]
"""40 ordinary lines and one GPU falling off the bus (a critical novelty: a log incident)."""
AUTH = {"Authorization": f"Bearer {OPERATOR}"}


async def push(http: httpx.AsyncClient) -> None:
    body = {"node": "gpu-01", "source": "vllm", "lines": LINES}
    resp = await http.post("/api/v1/logs", json=body, headers=AUTH)
    assert resp.status_code == 200, resp.text


async def test_logs_top_and_findings_show_the_pushed_templates(
    cli: Cli, controller: Controller
) -> None:
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url) as http:
        await push(http)

    top = await asyncio.to_thread(
        cli, "logs", "top", "--url", url, "--token", OPERATOR, columns=250
    )
    assert top.returncode == 0, top.stderr
    assert "Log templates (2 in all)" in top.stdout
    rows = [line for line in top.stdout.splitlines() if "served in" in line]
    assert len(rows) == 1 and "40" in rows[0] and "gpu-01/vllm" in rows[0]

    found = await asyncio.to_thread(
        cli,
        "logs",
        "findings",
        "--url",
        url,
        "--token",
        OPERATOR,
        "--kind",
        "log_novelty",
        columns=250,
    )
    assert found.returncode == 0, found.stderr
    assert "Log findings (1 in all)" in found.stdout
    (row,) = [line for line in found.stdout.splitlines() if "Xid" in line]
    assert "novelty" in row and "critical" in row and "gpu-01/vllm" in row


async def test_a_log_incident_shows_its_templates_with_p_fault(
    cli: Cli, controller: Controller
) -> None:
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url) as http:
        await push(http)
        (incident,) = (await http.get("/api/v1/incidents", headers=AUTH)).json()["items"]
    assert incident["subject"] == "logs:gpu-01/vllm"
    args = ("--url", url, "--token", OPERATOR)
    shown = await asyncio.to_thread(cli, "incidents", *args, columns=250)
    assert shown.returncode == 0, shown.stderr
    (line,) = [x for x in shown.stdout.splitlines() if x.startswith(f"#{incident['id']} ")]
    assert "logs:gpu-01/vllm P(fault): 0.50 Xid <*> on GPU <*>" in line  # the prior: no history
    found = await asyncio.to_thread(
        cli, "logs", "findings", *args, "--incident", str(incident["id"]), columns=250
    )
    assert found.returncode == 0, found.stderr
    assert "Log findings (1 in all)" in found.stdout
    (row,) = [x for x in found.stdout.splitlines() if "Xid" in x]
    assert " 0.50 " in row and str(incident["id"]) in row


async def test_logs_top_with_a_bad_sort_exits_1_naming_the_field(
    cli: Cli, controller: Controller
) -> None:
    url = f"http://127.0.0.1:{controller.api_port}"
    result = await asyncio.to_thread(
        cli, "logs", "top", "--url", url, "--token", OPERATOR, "--sort", "size"
    )
    assert result.returncode == 1
    assert "HTTP 422" in result.stderr and "sort" in result.stderr


def test_agent_with_a_log_format_without_content_exits_2_naming_the_file(
    cli: Cli, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    result = cli(
        "agent",
        "--controller",
        "http://127.0.0.1:9",
        "--name",
        "n1",
        "--log",
        str(log),
        "--log-format",
        "<Date> <Time>",
        "--state-dir",
        str(tmp_path / "state"),
    )
    assert result.returncode == 2
    assert (
        f"vigil agent: log source {log}: log format '<Date> <Time>': needs a <Content> field"
        in (" ".join(result.stderr.split()))
    )


async def push_bracketed(controller: Controller) -> str:
    """Push 40 ordinary lines and one whose text reads as Rich markup (``[/]``, ``[bold]``) to
    the controller; returns its URL."""
    lines = [*LINES[:40], "2024-05-01 12:00:01 ERROR shard [/] failed: [bold] no"]
    url = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=url) as http:
        body = {"node": "gpu-01", "source": "vllm", "lines": lines}
        assert (await http.post("/api/v1/logs", json=body, headers=AUTH)).status_code == 200
    return url


async def test_logs_top_and_findings_show_templates_with_square_brackets_as_written(
    cli: Cli, controller: Controller
) -> None:
    # Rich read the lines' brackets as markup: '[/]' is a closing tag, so `vigil logs top`
    # died with a MarkupError traceback, and '[bold]' vanished into a style.
    url = await push_bracketed(controller)
    args = ("--url", url, "--token", OPERATOR)
    for command in (("logs", "top"), ("logs", "findings")):
        shown = await asyncio.to_thread(cli, *command, *args, columns=250)
        assert shown.returncode == 0, shown.stderr
        (row,) = [x for x in shown.stdout.splitlines() if "failed" in x]
        assert "shard [/] failed: [bold] no" in row


async def test_vigil_incidents_and_status_show_a_log_incident_with_brackets_as_written(
    cli: Cli, controller: Controller
) -> None:
    # A log incident's summary carries the log's text: '[/]' in it made `vigil incidents` and
    # `vigil status` die with a MarkupError traceback.
    url = await push_bracketed(controller)
    async with httpx.AsyncClient(base_url=url) as http:
        (incident,) = (await http.get("/api/v1/incidents", headers=AUTH)).json()["items"]
    assert "shard [/] failed: [bold] no" in incident["summary"]
    args = ("--url", url, "--token", OPERATOR)
    for command in ("incidents", "status"):
        shown = await asyncio.to_thread(cli, command, *args, columns=250)
        assert shown.returncode == 0, shown.stderr
        assert "shard [/] failed: [bold] no" in shown.stdout


def _word(i: int) -> str:
    """A distinct lower-case word per ``i`` (no digits: the miner would mask them)."""
    i += 26 * 26
    out = ""
    while i:
        out += string.ascii_lowercase[i % 26]
        i //= 26
    return out


def test_logs_parse_that_cannot_write_its_state_keeps_the_previous_state_whole(
    tmp_path: Path,
) -> None:
    # The state was written in place: a write that failed part way (here a file size limit,
    # as a full disk or Ctrl-C would) left a truncated file, refused by every later run.
    state = tmp_path / "miner.json"
    first = "".join(f"service {_word(i)} started on port {i}\n" for i in range(5))
    done = subprocess.run(
        [VIGIL, "logs", "parse", "--state", str(state)],
        input=first.encode(),
        capture_output=True,
        check=True,
    )
    before = state.read_bytes()
    more = "".join(f"{_word(i)} {_word(i + 7)} handler failed code {i}\n" for i in range(2000))

    def small_files() -> None:  # CPython ignores SIGXFSZ: the write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 10, len(before) + 10))

    done = subprocess.run(
        [VIGIL, "logs", "parse", "--state", str(state)],
        input=more.encode(),
        capture_output=True,
        preexec_fn=small_files,
    )

    assert done.returncode == 2, done.stderr
    assert f"{state}: cannot write (File too large)" in done.stderr.decode()
    assert state.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["miner.json"]
    again = subprocess.run(
        [VIGIL, "logs", "parse", "--state", str(state)],
        input=b"service abc started on port 7\n",
        capture_output=True,
    )
    assert again.returncode == 0, again.stderr


def test_logs_templates_with_a_negative_limit_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    # `-n -1` was taken as a Python slice: every template but the last shown, under a title
    # that counted them all, and exit 0.
    log = tmp_path / "app.log"
    log.write_text("worker 1 started\ndisk sda full\n", encoding="utf-8")

    done = cli("logs", "templates", str(log), "-n", "-1")

    assert done.returncode == 2, done.stdout
    assert "Invalid value for '--limit'" in done.stderr
    shown = cli("logs", "templates", str(log), "-n", "2")
    assert shown.returncode == 0, shown.stderr
    assert "worker <*> started" in shown.stdout and "disk sda full" in shown.stdout


async def test_logs_findings_of_an_unknown_incident_exits_1_saying_so(
    cli: Cli, controller: Controller
) -> None:
    # An id that names no incident gave an empty "Log findings (0 in all)" table and exit 0,
    # as if the incident were real and had no log findings.
    url = f"http://127.0.0.1:{controller.api_port}"
    args = ("--url", url, "--token", OPERATOR)

    found = await asyncio.to_thread(cli, "logs", "findings", *args, "--incident", "424242")

    assert found.returncode == 1, found.stdout
    assert "HTTP 404" in found.stderr and "424242" in found.stderr, found.stderr
    assert "Log findings" not in found.stdout
