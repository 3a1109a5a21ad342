"""The CLI given a controller URL or a token that cannot be sent at all: one line naming the
option and the fix, and an exit status, never a traceback (real subprocesses, as run by hand)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import Cli

BAD_URL = "http://[::1"  # an unclosed IPv6 bracket: httpx.InvalidURL, no HTTPError
BAD_TOKEN = "t\u00f6ken-0123456789"  # not ASCII: cannot go into an Authorization header


@pytest.mark.parametrize("command", [["status"], ["incidents"], ["logs", "top"]])
def test_a_url_that_cannot_be_parsed_is_named_not_a_traceback(cli: Cli, command: list[str]) -> None:
    done = cli(*command, "--url", BAD_URL, "--token", "t" * 20)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"--url / VIGIL_URL: {BAD_URL!r} is not a URL (Invalid port: ':1'): "
        "give the controller's, e.g. http://127.0.0.1:8700"
    ]


def test_a_token_that_cannot_be_sent_is_named_not_a_traceback(cli: Cli) -> None:
    # it is refused before any connection, so no controller needs to run
    done = cli("status", "--url", "http://127.0.0.1:9", "--token", BAD_TOKEN)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        "--token / VIGIL_TOKEN: a token is printable ASCII ('vigil token' makes one); this one "
        "has '\u00f6' as character 2"
    ]


def test_the_agent_refuses_a_url_or_a_token_it_could_never_send(cli: Cli) -> None:
    bad_url = cli("agent", "--controller", BAD_URL, "--name", "local", columns=300)
    assert bad_url.returncode == 2, bad_url.stderr
    assert "Traceback" not in bad_url.stderr
    assert "is not a URL (Invalid port: ':1')" in bad_url.stderr
    bad_token = cli(
        "agent",
        "--controller",
        "http://127.0.0.1:9",
        "--name",
        "local",
        "--token",
        BAD_TOKEN,
        columns=300,
    )
    assert bad_token.returncode == 2, bad_token.stderr
    assert "Traceback" not in bad_token.stderr
    assert "a token is printable ASCII" in bad_token.stderr


class NotVigil(BaseHTTPRequestHandler):
    """Something else answering 200 with JSON: the Kubernetes API has /api/v1/nodes too."""

    def do_GET(self) -> None:
        body = json.dumps({"kind": "NodeList", "items": [{"metadata": {"name": "n1"}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_vigil() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), NotVigil)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "command",
    [["status"], ["incidents"], ["top", "--once"], ["logs", "top"], ["logs", "findings"]],
    ids=["status", "incidents", "top", "logs-top", "logs-findings"],
)
def test_a_url_that_answers_json_of_another_kind_is_said_so_not_a_traceback(
    cli: Cli, not_vigil: str, command: list[str]
) -> None:
    # every one of them crashed drawing its table: KeyError 'total', TypeError (a traceback)
    done = cli(*command, "--url", not_vigil, "--token", "t" * 20, columns=300)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{not_vigil} answered JSON that is not a Vigil controller's ("), line
    assert line.endswith("): is --url / VIGIL_URL the controller's?"), line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--duration", "-5"], "--duration"),
        (["--duration", "nan"], "--duration"),
    ],
    ids=["port-too-big", "port-negative", "duration-negative", "duration-nan"],
)
def test_the_demo_refuses_a_port_or_duration_out_of_range_as_a_usage_error(
    cli: Cli, args: list[str], option: str
) -> None:
    # --port 99999 was a pydantic ValidationError traceback from the settings it built, and a
    # negative or NaN duration ran a demo of nothing, exit 0
    done = cli("demo", *args, columns=300, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"Invalid value for '{option}'" in done.stderr


def test_the_agent_refuses_a_state_dir_it_cannot_write_when_it_follows_logs(
    cli: Cli, tmp_path: Path
) -> None:
    # under a file: a NotADirectoryError traceback reading the state; where it cannot create
    # the directory (/proc/x): it started, sent heartbeats and never shipped a log batch,
    # saving its state failing in the shipping task, which ended without a word
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "app.log").write_text("hello\n")
    done = cli(
        "agent",
        "--controller",
        "http://127.0.0.1:9",
        "--name",
        "local",
        "--no-metrics",
        "--log",
        str(tmp_path / "app.log"),
        "--state-dir",
        str(tmp_path / "afile" / "state"),
        columns=300,
        timeout=20,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"vigil agent: --state-dir: cannot write in {tmp_path / 'afile' / 'state'} (Not a "
        "directory): give a directory this user can write (the log offsets are kept there)"
    ]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["agent", "--controller", "http://127.0.0.1:9", "--name", "n1", "--interval", "inf"],
         "--interval"),
        (["agent", "--controller", "http://127.0.0.1:9", "--name", "n1", "--ship-every", "inf"],
         "--ship-every"),
        (["top", "--url", "http://127.0.0.1:9", "--every", "inf"], "--every"),
        (["top", "--url", "http://127.0.0.1:9", "--every", "1e300"], "--every"),
    ],
    ids=["agent-interval", "agent-ship-every", "top-every", "top-every-huge"],
)  # fmt: skip
def test_an_infinite_period_is_a_usage_error_naming_its_option(
    cli: Cli, args: list[str], option: str
) -> None:
    # --interval inf passed min=0.01: the agent sent heartbeats back to back (a due time of
    # seq * inf plus a jitter of 0 * inf is NaN, so no wait), thousands a second at a controller
    # that is down; --ship-every inf never shipped a log batch, without a word; top --every inf
    # drew one table, then time.sleep(inf) raised OverflowError (a traceback)
    done = cli(*args, "--no-metrics" if args[0] == "agent" else "--once", columns=300, timeout=20)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"Invalid value for '{option}'" in done.stderr


@pytest.mark.parametrize(
    "name", ["", "a/../../b", "n" * 64, "gpu 1"], ids=["empty", "path", "long", "space"]
)
def test_the_agent_refuses_a_node_name_no_config_can_hold(cli: Cli, name: str) -> None:
    # it started and sent heartbeats the controller could only refuse (422 for an empty or long
    # name, 404 for another), logged each second for ever; with --log its state file was
    # named after it: logs-a/../../b.json, outside --state-dir
    (cli.cwd / "app.log").write_text("hello\n")
    done = cli(
        "agent",
        "--controller",
        "http://127.0.0.1:9",
        "--name",
        name,
        "--no-metrics",
        "--log",
        str(cli.cwd / "app.log"),
        "--state-dir",
        str(cli.cwd / "state"),
        columns=300,
        timeout=20,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Invalid value for '--name'" in done.stderr
    assert "nodes[].name" in done.stderr


def test_up_and_check_config_refuse_a_store_url_they_cannot_open_in_one_line(cli: Cli) -> None:
    # a port that is no number ended 'vigil up' with a traceback (a bare ValueError), and
    # 'vigil check-config' said ok; the line must not show the password either
    config = cli.cwd / "vigil.yaml"
    config.write_text(
        "data_dir: data\nstore:\n  url: postgresql://vigil:s3cret@db:54x32/vigil\n",
        encoding="utf-8",
    )
    for command in ("up", "check-config"):
        done = cli(command, "-c", str(config), columns=300)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [f"{config}:3: store.url: the port '54x32' is no number"]
