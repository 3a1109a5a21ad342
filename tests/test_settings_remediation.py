"""The ``remediation:`` section (globally and per service): good values load, bad ones are one
line each naming ``file:line``, the field and the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import dedent

import pytest

from vigil.errors import ConfigError
from vigil.settings import effective_remediation, parse_settings

GOOD = """\
remediation:
  max_unavailable: 25%
  rate_limit: {actions: 10, window: 10m}
  escalate_after: 4
  windows:
    - name: weekly patching
      cron: "0 2 * * 6"
      duration: 2h
      timezone: Europe/Berlin
    - name: year-end freeze
      start: 2026-12-24T00:00:00Z
      end: 2026-12-27T00:00:00Z
services:
  - name: llm
    command: serve --port {port}
    replicas: 4
    remediation:
      max_unavailable: 1
      dry_run: true
      windows:
        - cron: "30 23 * * *"
          duration: 90m
  - name: embed
    command: serve --port {port}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(dedent(text), "vigil.yaml")
    return caught.value.problems


def test_a_good_remediation_section_loads_and_services_inherit_or_override_it() -> None:
    settings = parse_settings(GOOD)
    glob = settings.remediation
    assert (glob.max_unavailable, glob.rate_limit.actions, glob.rate_limit.window) == (
        "25%",
        10,
        600.0,
    )
    assert glob.windows[0].duration == 7200.0
    assert glob.windows[1].start == datetime(2026, 12, 24, tzinfo=UTC)
    llm = effective_remediation(glob, settings.services[0].remediation)
    assert (llm.max_unavailable, llm.dry_run, llm.escalate_after) == (1, True, 4)
    assert [w.name for w in llm.windows] == ["weekly patching", "year-end freeze", ""]
    embed = effective_remediation(glob, settings.services[1].remediation)
    assert (embed.max_unavailable, embed.dry_run, len(embed.windows)) == ("25%", False, 2)


def test_the_defaults_are_a_quarter_of_the_replicas_and_no_dry_run() -> None:
    glob = parse_settings("").remediation
    assert (glob.max_unavailable, glob.dry_run, glob.escalate_after, glob.windows) == (
        "25%",
        False,
        3,
        [],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "vigil.yaml:2: remediation.max_unavailable: must be a count >= 1 or a percentage"),
        ("0%", "vigil.yaml:2: remediation.max_unavailable: must be a count >= 1 or a percentage"),
        ("150%", "in (0%, 100%]"),
        ("half", "like '25%' (got 'half')"),
    ],
)
def test_a_bad_max_unavailable_names_the_line_and_how_to_write_it(
    value: str, expected: str
) -> None:
    [problem] = problems(f"remediation:\n  max_unavailable: {value}\n")
    assert expected in problem


def test_a_bad_cron_expression_names_its_window() -> None:
    [problem] = problems(
        """\
        remediation:
          windows:
            - cron: "0 25 * * *"
              duration: 1h
        """
    )
    assert problem.startswith("vigil.yaml:3: remediation.windows[0].cron: cron '0 25 * * *'")
    assert "five-field cron expression" in problem


def test_an_unknown_time_zone_is_refused_at_its_line() -> None:
    [problem] = problems(
        """\
        services:
          - name: llm
            command: x
            remediation:
              windows:
                - cron: "0 2 * * 6"
                  duration: 1h
                  timezone: Europe/Atlantis
        """
    )
    assert problem.startswith(
        "vigil.yaml:8: services[0].remediation.windows[0].timezone: unknown time zone"
    )
    assert "IANA" in problem


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ('cron: "0 2 * * 6"', "a recurring window needs both cron and duration"),
        ("duration: 1h", "a recurring window needs both cron and duration"),
        ("start: 2026-12-24T00:00:00Z", "a single window needs both start and end"),
        ('{cron: "0 2 * * 6", duration: 1h, start: 2026-12-24T00:00:00Z}', "give either"),
        ("{name: nothing}", "give either cron and duration"),
        (
            "{start: 2026-12-24T00:00:00Z, end: 2026-12-24T00:00:00Z}",
            "end must be after start",
        ),
        ('{cron: "0 2 * * 6", duration: 0}', "duration: duration must be > 0"),
    ],
)
def test_a_window_must_be_one_shape_or_the_other(window: str, message: str) -> None:
    [problem] = problems(f"remediation:\n  windows:\n    - {window}\n")
    assert problem.startswith("vigil.yaml:3: remediation.windows[0]")
    assert message in problem


def test_bad_rate_limit_and_escalation_values_say_their_limits() -> None:
    found = problems(
        """\
        remediation:
          rate_limit: {actions: 0, window: 0}
          escalate_after: 0
        """
    )
    assert found == [
        "vigil.yaml:2: remediation.rate_limit.actions: must be >= 1 (got 0)",
        "vigil.yaml:2: remediation.rate_limit.window: must be > 0.0 (got 0)",
        "vigil.yaml:3: remediation.escalate_after: must be >= 1 (got 0)",
    ]


def test_a_misspelt_field_suggests_the_right_one() -> None:
    [problem] = problems(
        "services:\n  - name: llm\n    command: x\n    remediation:\n      dryrun: 1\n"
    )
    assert problem == (
        "vigil.yaml:5: services[0].remediation.dryrun: unknown field; did you mean 'dry_run'?"
    )


def test_a_cron_expression_that_never_matches_a_date_is_refused() -> None:
    # valid to croniter's parser, but February 30 never comes: asked for its next date at the
    # first restart decision, it raised and ended the controller
    [problem] = problems('remediation:\n  windows:\n    - {cron: "0 0 30 2 *", duration: 1h}\n')
    assert problem.startswith("vigil.yaml:3: remediation.windows[0].cron: cron '0 0 30 2 *' never")


def test_a_service_rate_limit_giving_only_its_window_keeps_the_global_action_count() -> None:
    # a service that slows its rate (a longer window) must not loosen it: the action count it
    # left out is the global one (5), not the default (30)
    settings = parse_settings(
        dedent(
            """\
            remediation:
              rate_limit: {actions: 5, window: 10m}
            services:
              - name: llm
                command: serve --port {port}
                remediation:
                  rate_limit: {window: 1h}
              - name: embed
                command: serve --port {port}
                remediation:
                  rate_limit: {actions: 2}
            """
        )
    )
    llm, embed = (
        effective_remediation(settings.remediation, s.remediation) for s in settings.services
    )
    assert (llm.rate_actions, llm.rate_window) == (5, 3600.0)
    assert (embed.rate_actions, embed.rate_window) == (2, 600.0)
