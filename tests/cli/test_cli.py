"""End to end: the `vigil` command line as an operator runs it (real subprocesses, no terminal)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from vigil.backends import free_port

from .conftest import (
    ADMIN,
    TAG_ENV,
    UP_LINE,
    VIEWER,
    VIGIL,
    Cli,
    Running,
    tagged,
    wait_until,
    write_config,
)

BAD_CONFIG = """\
data_dir: data
api:
  port: 70000
  tokens:
    - name: admin
      role: root
      token: short
heartbeat:
  interval: soon
services:
  - name: LLM
    command: python -m vigil.demo.model_server --port {port}
    replicas: -1
    restrat: {}
"""

PROBLEM_LINE = re.compile(r"^bad\.yaml:(\d+): ([\w.\[\]]+): (.+)$")


def test_check_config_reports_every_problem_of_a_bad_file_as_file_line_field_problem(
    cli: Cli,
) -> None:
    (cli.cwd / "bad.yaml").write_text(BAD_CONFIG)

    result = cli("check-config", "-c", "bad.yaml")

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert all(parsed), f"every line is one file:line: field: problem, got {lines}"
    found = {(int(m[1]), m[2]) for m in parsed if m}
    assert found == {
        (3, "api.port"),
        (6, "api.tokens[0].role"),
        (7, "api.tokens[0].token"),
        (9, "heartbeat.interval"),
        (11, "services[0].name"),
        (13, "services[0].replicas"),
        (14, "services[0].restrat"),
    }
    assert [int(m[1]) for m in parsed if m] == sorted(int(m[1]) for m in parsed if m)
    text = result.stderr
    assert "bad.yaml:3: api.port: must be <= 65535 (got 70000)" in text
    assert "bad.yaml:13: services[0].replicas: must be >= 0 (got -1)" in text
    assert "bad.yaml:14: services[0].restrat: unknown field; did you mean 'restart'?" in text
    assert "Traceback" not in text


def test_check_config_of_a_good_file_exits_0_with_a_summary(cli: Cli) -> None:
    write_config(cli.cwd / "vigil.yaml", cli.tag, replicas=3)

    result = cli("check-config", "-c", "vigil.yaml")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "vigil.yaml: ok: 1 node(s), 1 service(s), 3 replica(s), 2 API token(s), 0 agent token(s)"
    )


def test_check_config_of_a_missing_file_exits_2_naming_it(cli: Cli) -> None:
    result = cli("check-config", "-c", "nowhere/vigil.yaml")

    assert result.returncode == 2
    assert result.stderr.strip() == "nowhere/vigil.yaml: no such file: create it or pass -c PATH"


def test_check_config_of_a_file_that_is_not_yaml_names_the_line(cli: Cli) -> None:
    (cli.cwd / "broken.yaml").write_text("api:\n  port: 1\n tokens: [\n")

    result = cli("check-config", "-c", "broken.yaml")

    assert result.returncode == 2
    assert re.match(r"^broken\.yaml:\d+: not valid YAML: ", result.stderr)


def test_token_prints_a_token_and_its_sha256(cli: Cli) -> None:
    result = cli("token")

    assert result.returncode == 0
    match = re.fullmatch(r"token:  (\S+)\nsha256: ([0-9a-f]{64})\n", result.stdout)
    assert match, result.stdout
    token, digest = match.groups()
    assert len(token) >= 32
    assert hashlib.sha256(token.encode()).hexdigest() == digest
    assert cli("token").stdout != result.stdout, "every token is new"


@pytest.mark.slow
def test_status_shows_the_replicas_of_a_running_controller(cli: Cli, running: Running) -> None:
    result = cli("status", "--url", running.url, "--token", VIEWER, columns=200)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Nodes" in out and "Replicas" in out
    assert "local" in out
    row = next(line for line in out.splitlines() if "llm/0" in line)
    assert str(running.pid) in row
    assert "running" in row
    assert "healthy" in row
    assert "no active incidents" in out


@pytest.mark.slow
def test_incidents_lists_the_healed_incident(cli: Cli, running: Running) -> None:
    result = cli("incidents", "--url", running.url, "--token", ADMIN, columns=200)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Incidents (1 in all)" in out
    assert "replica:llm/0" in out
    assert "resolved" in out
    active = cli("incidents", "--url", running.url, "--token", ADMIN, "--state", "active")
    assert active.returncode == 0
    assert "Incidents (0 in all)" in active.stdout


@pytest.mark.slow
def test_incidents_with_an_unknown_state_exits_2_naming_the_states(
    cli: Cli, running: Running
) -> None:
    # refused before the request now (it was the API's 422 on query.state, exit 1; with no
    # controller at --url, only 'cannot reach the controller'): tests/cli/test_help_texts.py
    result = cli(
        "incidents", "--url", running.url, "--token", ADMIN, "--state", "sideways", columns=200
    )

    assert result.returncode == 2
    assert "'sideways' is no incident state: use one of open, remediating" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_status_with_a_wrong_token_exits_1_saying_the_token_was_refused(
    cli: Cli, running: Running
) -> None:
    wrong = cli("status", "--url", running.url, "--token", "not-a-valid-token-at-all")
    missing = cli("status", "--url", running.url)

    assert wrong.returncode == 1
    assert wrong.stdout == ""
    assert running.url in wrong.stderr
    assert "refused the token" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert missing.returncode == 1
    assert "wants a token: pass --token or set VIGIL_TOKEN" in missing.stderr


def test_status_against_a_dead_url_exits_1_naming_the_url(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # a port that nobody listens on

    result = cli("status", "--url", url, "--token", VIEWER)

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"cannot reach the controller at {url}" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_up_with_a_bad_config_exits_2_without_starting_anything(cli: Cli) -> None:
    (cli.cwd / "bad.yaml").write_text(BAD_CONFIG)

    result = cli("up", "-c", "bad.yaml")

    assert result.returncode == 2
    assert "bad.yaml:3: api.port: must be <= 65535 (got 70000)" in result.stderr
    assert "controller up" not in result.stderr
    assert not (cli.cwd / "data").exists(), "nothing was created"


def test_up_standby_on_a_sqlite_store_is_a_usage_error_naming_store_url(cli: Cli) -> None:
    (cli.cwd / "vigil.yaml").write_text("data_dir: data\n")

    result = cli("up", "--standby", "-c", "vigil.yaml")

    assert result.returncode == 2
    assert "--standby" in result.stderr
    assert "store.url is sqlite" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.cwd / "data").exists(), "nothing was created"


def test_agent_with_an_invalid_interval_is_a_usage_error(cli: Cli) -> None:
    result = cli("agent", "--controller", "http://127.0.0.1:9", "--name", "n1", "--interval", "0")

    assert result.returncode == 2
    assert "Usage: vigil agent" in result.stderr
    assert "--interval" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("upp")

    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_a_config_read_from_the_example_is_valid(cli: Cli) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "vigil.yaml"

    result = cli("check-config", "-c", str(example))

    assert result.returncode == 0, result.stderr
    assert "ok: 2 node(s), 1 service(s), 2 replica(s), 2 API token(s), 1 agent token(s)" in (
        result.stdout
    )


def test_up_on_an_api_port_in_use_exits_1_naming_api_port(cli: Cli) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        (cli.cwd / "vigil.yaml").write_text(f"data_dir: data\napi: {{port: {port}}}\n")

        result = cli("up", "-c", "vigil.yaml")

    assert result.returncode == 1
    # it was a 60-line OSError traceback
    assert result.stderr.startswith(
        f"vigil up: api.port: cannot listen on 127.0.0.1:{port} for the API: Address already "
        "in use; free it or choose another port (0 picks a free one)"
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert "controller up" not in result.stderr


def test_up_with_two_balancers_on_one_port_exits_1_naming_the_second(cli: Cli) -> None:
    port = free_port()
    sleeper = {"command": "sleep 600", "env": {TAG_ENV: cli.tag}, "balancer": {"port": port}}
    (cli.cwd / "vigil.yaml").write_text(
        yaml.safe_dump(
            {
                "data_dir": "data",
                "api": {"port": 0},
                "services": [{"name": "a", **sleeper}, {"name": "b", **sleeper}],
            }
        )
    )

    result = cli("up", "-c", "vigil.yaml")

    assert result.returncode == 1
    assert result.stderr.startswith(
        f"vigil up: services[1].balancer.port: cannot listen on 127.0.0.1:{port} for b's "
        "balancer: Address already in use;"
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert tagged(cli.tag) == [], "no replica was left running"


def test_up_with_a_balancer_on_the_api_port_exits_1_naming_the_balancer(cli: Cli) -> None:
    # The API's socket was bound but listened only when uvicorn started, after the balancer had
    # bound the same port: "controller up, API on ...:P" while P answered for the balancer
    # (HTTP 503 to every API call).
    port = free_port()
    sleeper = {"command": "sleep 600", "env": {TAG_ENV: cli.tag}, "balancer": {"port": port}}
    (cli.cwd / "vigil.yaml").write_text(
        yaml.safe_dump(
            {"data_dir": "data", "api": {"port": port}, "services": [{"name": "a", **sleeper}]}
        )
    )

    result = cli("up", "-c", "vigil.yaml")

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        f"vigil up: services[0].balancer.port: cannot listen on 127.0.0.1:{port} for a's "
        "balancer: Address already in use;"
    ), result.stderr
    assert "controller up" not in result.stderr
    assert tagged(cli.tag) == [], "no replica was left running"


@pytest.mark.parametrize("url", ["ctl:8700", "127.0.0.1:8700", "ftp://ctl", "http://"])
def test_agent_with_a_controller_that_is_no_http_url_is_a_usage_error(cli: Cli, url: str) -> None:
    # it started and retried for ever, one "Request URL is missing a protocol" warning a beat
    result = cli("agent", "--controller", url, "--name", "n1", "--no-metrics")

    assert result.returncode == 2
    said = " ".join(result.stderr.replace("│", " ").split())  # Rich boxes and wraps it
    assert "Invalid value for '--controller': must be an http:// or https:// URL" in said
    assert f"(got '{url}')" in said
    assert "Traceback" not in result.stderr


def test_a_working_agent_does_not_log_a_line_per_heartbeat(cli: Cli, tmp_path: Path) -> None:
    # httpx's INFO line per request ("HTTP Request: POST .../heartbeats 200 OK") went to the
    # agent's log every second for ever (and to `vigil up`'s at every scrape).
    agent_token = "agent-" + secrets.token_urlsafe(16)
    cfg = write_config(tmp_path / "vigil.yaml", cli.tag)
    config = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    config["nodes"] = [{"name": "local"}, {"name": "gpu-a"}]
    config["agents"] = [{"node": "gpu-a", "token": agent_token}]
    cfg.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, TAG_ENV: cli.tag}
    up_log = tmp_path / "up.log"
    with up_log.open("wb") as out:
        up = subprocess.Popen(
            [VIGIL, "up", "-c", str(cfg)], stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env
        )
    agent_log = tmp_path / "agent.log"
    agent: subprocess.Popen[bytes] | None = None
    try:
        match = wait_until(lambda: UP_LINE.search(up_log.read_text()), 30, "vigil up", up_log)
        url = match.group(1)
        with agent_log.open("wb") as out:
            agent = subprocess.Popen(
                [
                    VIGIL,
                    "agent",
                    "--controller",
                    url,
                    "--name",
                    "gpu-a",
                    "--token",
                    agent_token,
                    "--interval",
                    "0.1",
                    "--no-metrics",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
            )
        headers = {"Authorization": f"Bearer {ADMIN}"}

        def beats() -> int:
            nodes = httpx.get(f"{url}/api/v1/nodes", headers=headers).json()
            (node,) = [n for n in nodes if n["name"] == "gpu-a"]
            return 1 if node["status"] == "up" else 0

        wait_until(beats, 30, "gpu-a up from its agent's heartbeats", agent_log.read_text)
    finally:
        for proc in (agent, up):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
    text = agent_log.read_text()
    assert "HTTP Request" not in text, text[-2000:]


def test_check_config_warns_of_a_token_env_that_is_not_set(cli: Cli) -> None:
    # counted as a token in the summary, then ignored by `vigil up` (one warning among its
    # start-up lines): the API answered 401 to the token the operator thought was configured
    unset = f"VIGIL_TEST_UNSET_{secrets.token_hex(4).upper()}"
    (cli.cwd / "vigil.yaml").write_text(
        "api:\n"
        "  tokens:\n"
        "    - {name: admin, role: admin, token: an-admin-token-for-this-test}\n"
        f"    - {{name: ops, role: operator, token_env: {unset}}}\n"
        "agents:\n"
        f"  - {{node: local, token_env: {unset}}}\n"
    )
    result = cli("check-config", "-c", "vigil.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"vigil.yaml: warning: api.tokens[1].token_env: ${unset} is not set here; `vigil up` "
        "ignores this token unless it is set where it runs",
        f"vigil.yaml: warning: agents[0].token_env: ${unset} is not set here; `vigil up` "
        "ignores this token unless it is set where it runs",
    ]
