"""The CLI given a controller URL or a token that cannot be sent at all: one line naming the
option and the fix, and an exit status, never a traceback (real subprocesses, as run by hand)."""

from __future__ import annotations

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
