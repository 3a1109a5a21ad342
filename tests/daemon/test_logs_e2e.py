"""End to end: real `vigil agent` processes follow real files and ship templates to an in-process
controller; the controller follows a file of its own too.

Every line written reaches the controller exactly once: through rename rotations, copytruncate,
a kill -9 of the agent mid-file, a restart of the controller, and bad bytes (invalid UTF-8, NUL,
CRLF, a 1 MB line, empty lines). A new critical template gives a novelty finding and an incident;
a flood of a steady template gives a burst finding; both are read from the API.

A test waits (no timing assertion) until a sentinel line written last has arrived: lines of a
file are shipped in order, so every earlier line has been counted by then, and a count above
the number written would be a duplicate.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.backends import free_port
from vigil.daemon import Controller

from ._support import eventually, tagged_env, write_config
from .conftest import ADMIN, API_TOKENS, StartController

AGENT_TOKEN = "agent-n1-token-0123456789"
SENTINEL = "sentinel reached the end of the test"
FAST = {"poll_every": 0.1, "ship_every": 0.3}


class LogAgent:
    """One `vigil agent` process following the log sources of node n1 in a config file."""

    def __init__(self, tmp_path: Path, tag: str) -> None:
        self.tmp_path = tmp_path
        self.tag = tag
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = tmp_path / "agent.out"

    def start(self, url: str, config: Path) -> None:
        argv = [sys.executable, "-m", "vigil", "agent", "--controller", url, "--name", "n1"]
        argv += ["--token", AGENT_TOKEN, "--interval", "0.5", "--no-metrics"]
        argv += ["--config", str(config), "--state-dir", str(self.tmp_path / "agent-state")]
        with self.out.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=tagged_env(self.tag),
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def agent(tmp_path: Path, tag: str) -> Iterator[LogAgent]:
    one = LogAgent(tmp_path, tag)
    yield one
    one.close()


def config(tmp_path: Path, **logs: Any) -> dict[str, Any]:
    return {
        "agents": [{"node": "n1", "token": AGENT_TOKEN}],
        "nodes": [{"name": "local"}, {"name": "n1"}],
        "logs": {
            "sources": [{"path": str(tmp_path / "app.log"), "node": "n1"}],
            **FAST,
            **logs,
        },
    }


async def start_both(
    start: StartController, agent: LogAgent, tmp_path: Path, **logs: Any
) -> tuple[Controller, httpx.AsyncClient]:
    cfg = config(tmp_path, **logs)
    controller = await start(cfg)
    url = f"http://127.0.0.1:{controller.api_port}"
    agent.start(url, write_config(tmp_path / "agent.yaml", cfg))
    client = httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
    )
    return controller, client


async def counts(client: httpx.AsyncClient, source: str = "n1/app.log") -> dict[str, int]:
    resp = await client.get("/api/v1/logs/templates", params={"source": source, "limit": 500})
    return {t["template"]: t["sources"][source] for t in resp.json()["items"]}


def append(path: Path, lines: list[str] | bytes) -> None:
    with path.open("ab") as f:
        f.write(lines if isinstance(lines, bytes) else "".join(f"{x}\n" for x in lines).encode())


def requests(start: int, stop: int) -> list[str]:
    return [f"request {i} served in {i % 17} ms" for i in range(start, stop)]


REQUEST = "request <*> served in <*> ms"


async def reach(
    client: httpx.AsyncClient, template: str, n: int, agent: LogAgent, **kw: Any
) -> None:
    async def there() -> bool:
        return (await counts(client, **kw)).get(template, 0) >= n

    async def state() -> str:
        return f"{await counts(client, **kw)} agent said: {agent.output()[-600:]}"

    await eventually(there, 30, f"{n} lines of {template!r}", state)


async def test_lines_arrive_once_through_rename_rotation_and_copytruncate(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, requests(0, 300))
    _, client = await start_both(start_controller, agent, tmp_path)
    async with client:
        await reach(client, REQUEST, 300, agent)

        os.rename(log, tmp_path / "app.log.1")  # logrotate's default: rename, then a new file
        append(log, requests(300, 600))
        await reach(client, REQUEST, 600, agent)

        shutil.copy(log, tmp_path / "app.log.1")  # copytruncate, nothing written in between
        with log.open("r+b") as f:
            f.truncate(0)
        append(log, requests(600, 900))
        await reach(client, REQUEST, 900, agent)

        append(log, requests(900, 1000))  # rotated right after a write, before the next read
        os.rename(log, tmp_path / "app.log.1")
        append(log, requests(1000, 1100))
        append(log, [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        assert (await counts(client))[REQUEST] == 1100


async def test_an_agent_killed_mid_file_resumes_without_losing_or_repeating_a_line(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, requests(0, 20_000))
    controller, client = await start_both(start_controller, agent, tmp_path)
    async with client:
        await reach(client, REQUEST, 1, agent)
        agent.kill()  # wherever it was: reading, holding a batch, waiting for an answer
        append(log, requests(20_000, 25_000))
        agent.start(f"http://127.0.0.1:{controller.api_port}", tmp_path / "agent.yaml")
        append(log, [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        assert (await counts(client))[REQUEST] == 25_000


async def test_bad_bytes_are_repaired_counted_and_never_lose_a_line(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(
        log,
        b"job 1 ok\n"
        + b"job \xff\xfe 2 ok\n"  # invalid UTF-8
        + b"job \x00 3 ok\r\n"  # NUL and CRLF
        + b"\n"  # empty
        + b"blob "
        + b"A" * (1 << 20)
        + b"\n"  # 1 MB line
        + b"job 4 ok\n",
    )
    controller, client = await start_both(start_controller, agent, tmp_path)
    async with client:
        append(log, [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        found = await counts(client)
        assert sum(found.values()) == 6  # every non-empty line, the empty one is counted apart
        (blob,) = [t for t in found if t.startswith("blob ")]
        assert blob.endswith("[truncated]")
        assert controller.logs.stats["n1/app.log"] == {
            "lines": 7,
            "empty": 1,
            "invalid_utf8": 1,
            "control_chars": 1,
            "crlf": 1,
            "truncated": 1,
        }
        assert agent.proc is not None and agent.proc.poll() is None


async def test_a_new_critical_template_and_a_flood_give_findings_and_an_incident(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    analysis = {
        "warmup_lines": 20,
        "warmup_seconds": 0,
        "burst_bucket": 1,
        "burst_min_buckets": 3,
    }
    _, client = await start_both(start_controller, agent, tmp_path, analysis=analysis)
    async with client:
        append(log, [f"tick {i}" for i in range(30)])
        await reach(client, "tick <*>", 30, agent)
        steady, flooded, t0 = 30, False, time.monotonic()

        async def burst_found() -> bool:
            # A steady rate for six buckets (pacing, not an assertion), then one flood: the
            # flood is a burst of the template's own rate.
            nonlocal steady, flooded
            if flooded:
                resp = await client.get("/api/v1/logs/findings", params={"kind": "log_burst"})
                return bool(resp.json()["total"])
            if time.monotonic() - t0 < 6:
                append(log, [f"tick {steady}"])
                steady += 1
                return False
            append(log, [f"tick {i}" for i in range(steady, steady + 400)])
            flooded = True
            return False

        await eventually(burst_found, 60, "a burst finding", lambda: steady)

        append(log, ["ERROR NCCL watchdog timeout on rank 3 after 1800000 ms"])

        async def novelty() -> list[dict[str, Any]]:
            resp = await client.get("/api/v1/logs/findings", params={"kind": "log_novelty"})
            return [f for f in resp.json()["items"] if "NCCL" in f["template"]]

        (found,) = await eventually(novelty, 30, "a novelty finding", agent.output)
        assert found["severity"] == "critical"
        assert found["subject"] == "logs:n1/app.log"
        incidents = (
            await client.get("/api/v1/incidents", params={"subject": "logs:n1/app.log"})
        ).json()["items"]
        assert [(i["id"], i["kind"], i["state"]) for i in incidents] == [
            (found["incident_id"], "log_novelty", "open")
        ]
        (burst,) = (await client.get("/api/v1/logs/findings", params={"kind": "log_burst"})).json()[
            "items"
        ]
        assert burst["template"] == "tick <*>"
        assert burst["evidence"]["count"] > burst["evidence"]["baseline"] * 10


async def test_the_controller_follows_its_own_file_and_resumes_it_after_a_restart(
    start_controller: StartController, tmp_path: Path
) -> None:
    log = tmp_path / "ctl.log"
    append(log, requests(0, 100))
    cfg = {"logs": {"sources": [{"path": str(log), "name": "ctl"}], **FAST}}
    controller = await start_controller(cfg)

    async def total(ctl: Controller, template: str) -> int:
        page = ctl.logs.templates(sort="id", descending=False, offset=0, limit=500)
        return next((t["count"] for t in page.items if t["template"] == template), 0)

    await eventually(lambda: total(controller, REQUEST), 30, "100 lines", None)
    assert await total(controller, REQUEST) == 100
    await start_controller.stop(controller)  # saves templates, miners and offsets
    append(log, requests(100, 150))
    again = await start_controller(cfg)
    append(log, [SENTINEL])

    async def sentinel() -> int:
        return await total(again, SENTINEL)

    await eventually(sentinel, 30, "the sentinel", None)
    assert await total(again, REQUEST) == 150
    # the templates came back: known ones are no news after the restart
    assert [f["template"] for f in again.logs.found if f["kind"] == "log_novelty"] == []


async def test_while_the_controller_is_down_the_agent_keeps_counting_and_loses_nothing(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    port = free_port()
    cfg = {**config(tmp_path), "api": {"port": port, "tokens": API_TOKENS}}
    url = f"http://127.0.0.1:{port}"
    agent.start(url, write_config(tmp_path / "agent.yaml", cfg))  # no controller yet
    append(log, requests(0, 2000))

    def refused() -> bool:
        return "kept for the next try" in agent.output()

    await eventually(refused, 30, "a batch refused while the controller is down", agent.output)
    append(log, requests(2000, 3000))  # counted on top of the batch waiting to be sent
    await start_controller(cfg)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
    ) as client:
        append(log, [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        assert (await counts(client))[REQUEST] == 3000


async def test_a_file_whose_name_is_no_label_is_shipped_under_a_label_the_api_takes(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    # '_my app.log' was sent as the source label itself: the API refused every batch (422), and
    # the agent dropped each one, with the lines of app.log that shared it
    odd = tmp_path / "_my app.log"
    sources = [
        {"path": str(tmp_path / "app.log"), "node": "n1"},
        {"path": str(odd), "node": "n1"},
    ]
    append(tmp_path / "app.log", requests(0, 50))
    append(odd, requests(50, 80))
    _, client = await start_both(start_controller, agent, tmp_path, sources=sources)
    async with client:
        await reach(client, REQUEST, 50, agent)
        await reach(client, REQUEST, 30, agent, source="n1/log_my_app.log")
        append(tmp_path / "app.log", [SENTINEL])
        await reach(client, SENTINEL, 1, agent)
        assert (await counts(client))[REQUEST] == 50
        assert (await counts(client, source="n1/log_my_app.log"))[REQUEST] == 30
    assert "refused" not in agent.output()


async def test_a_json_line_with_a_long_level_does_not_lose_the_batch(
    start_controller: StartController, agent: LogAgent, tmp_path: Path
) -> None:
    # a 'level' of 60 characters went into the batch as is: the API refused it (the level is at
    # most 40), and the agent dropped the batch with every line of every file in it
    log = tmp_path / "app.log"
    long_level = json.dumps({"level": "L" * 60, "msg": "cache warmed in 3 ms"})
    append(log, [long_level, *requests(0, 40), SENTINEL])
    _, client = await start_both(start_controller, agent, tmp_path)
    async with client:
        await reach(client, SENTINEL, 1, agent)
        assert (await counts(client))[REQUEST] == 40
        templates = await client.get("/api/v1/logs/templates", params={"limit": 500})
        levels = {t["level"] for t in templates.json()["items"]}
    assert "L" * 40 in levels
    assert "refused" not in agent.output()
