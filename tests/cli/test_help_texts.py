"""What a new user reads in `vigil ... --help`, and a typo in `vigil incidents --state`
(real subprocesses, as run by hand)."""

from __future__ import annotations

import pytest

from .conftest import Cli


@pytest.mark.parametrize("command", [["status"], ["incidents"], ["guards"], ["logs", "top"]])
def test_the_url_option_says_which_controller_it_asks_by_default(
    cli: Cli, command: list[str]
) -> None:
    # it said "Controller URL (or VIGIL_URL)." and left the reader to guess the default
    done = cli(*command, "--help", columns=200)
    assert done.returncode == 0, done.stderr
    assert "Controller URL (or VIGIL_URL; default http://127.0.0.1:8700)." in done.stdout


def test_incidents_help_says_what_state_and_limit_do(cli: Cli) -> None:
    # --state listed five words, --limit had no help at all
    done = cli("incidents", "--help", columns=200)
    assert "Only incidents in this state: open, remediating, resolved, escalated, or" in (
        done.stdout
    )
    assert "active (any but resolved)" in done.stdout
    assert "How many to show, newest first." in done.stdout


def test_detect_help_says_what_the_ensemble_detector_is(cli: Cli) -> None:
    # "'ensemble' (the previous)": the previous what, to a new user?
    done = cli("detect", "--help", columns=200)
    assert "'ensemble' (the default before it, kept for comparison)" in done.stdout
    assert "(the previous)" not in done.stdout


def test_a_typo_in_the_incident_state_is_named_before_any_connection(cli: Cli) -> None:
    # it went to the controller: with none at --url, 'cannot reach the controller' said
    # nothing of the typo
    done = cli("incidents", "--state", "resovled", "--url", "http://127.0.0.1:9", columns=200)
    assert done.returncode == 2, done.stderr
    assert "'resovled' is no incident state: use one of open, remediating, resolved, " in (
        done.stderr
    )
    assert "cannot reach" not in done.stderr


def test_logs_top_and_findings_help_say_what_their_options_do(cli: Cli) -> None:
    # --limit had no help in either; --sort and --kind listed bare words
    top = cli("logs", "top", "--help", columns=200).stdout
    assert "Order by: count, last_seen, first_seen, p_fault (P(fault | template)) or id." in top
    assert "How many templates to show." in top
    findings = cli("logs", "findings", "--help", columns=200).stdout
    assert "Only findings of this kind: log_novelty (a new template), log_burst or" in findings
    assert "How many findings to show, newest first." in findings


@pytest.mark.parametrize("command", [[], ["agent"], ["logs"], ["logs", "top"], ["up"], ["detect"]])
def test_help_shows_no_type_beside_flags_and_a_file_beside_log(
    cli: Cli, command: list[str]
) -> None:
    # typer printed <bool> beside every on/off flag (--help too) and <list[str]> beside --log
    done = cli(*command, "--help", columns=200)
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout
    assert "<list[" not in done.stdout
    assert "--help" in done.stdout and "Show this message and exit." in done.stdout
    if command == ["agent"]:
        line = next(x for x in done.stdout.splitlines() if "--log " in x)
        assert "<file>" in line and "A log file to follow (repeatable)." in line
        line = next(x for x in done.stdout.splitlines() if "--interval" in x)
        assert "<float>" in line  # options taking a value keep their type
