"""The pure guard core (vigil.remediation.decide): each guard alone, their order, and the edges
(percentage rounding, expired slots, the rate window's boundary). Plain numbers, no clock."""

from __future__ import annotations

import dataclasses

import pytest

from vigil.remediation import Ask, ServiceLoad, Verdict, decide, unavailable_limit
from vigil.settings import (
    EffectiveRemediation,
    MaintenanceWindow,
    RemediationSettings,
    effective_remediation,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC, a Friday
IDLE = ServiceLoad(in_flight={}, recent=())


def guards(**over: object) -> EffectiveRemediation:
    return dataclasses.replace(effective_remediation(RemediationSettings(), None), **over)


def ask(replica: str = "llm/0", **over: object) -> Ask:
    fields: dict[str, object] = {"replica": replica, "action": "restart", "replicas": 4}
    fields.update(over)
    return Ask(**fields)  # type: ignore[arg-type]


# --- max_unavailable as a count ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "replicas", "limit"),
    [
        ("25%", 4, 1),
        ("7%", 100, 7),  # exact: in floats 7 / 100 * 100 is 7.000000000000001, rounded up to 8
        ("25%", 5, 2),  # 1.25 rounds up
        ("25%", 1, 1),
        ("25%", 0, 1),  # at least 1, even of nothing
        ("10%", 3, 1),  # 0.3 rounds up to 1
        ("33%", 3, 1),  # 0.99
        ("34%", 3, 2),  # 1.02
        ("12.5%", 8, 1),
        ("12.5%", 9, 2),
        ("100%", 7, 7),
        (" 50 % ", 4, 2),
        (3, 10, 3),
        (3, 2, 3),  # a count larger than the service is the count (all may go)
    ],
)
def test_max_unavailable_rounds_a_percentage_up_and_is_at_least_one(
    spec: int | str, replicas: int, limit: int
) -> None:
    assert unavailable_limit(spec, replicas) == limit


def test_a_malformed_max_unavailable_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max_unavailable"):
        unavailable_limit("a quarter", 4)


# --- blast radius -----------------------------------------------------------------------------


def test_with_no_other_restart_under_way_the_restart_is_allowed() -> None:
    decision = decide(ask(), guards(max_unavailable=1), IDLE, NOW)
    assert decision.verdict == Verdict.ALLOWED and decision.allowed
    assert decision.guard == ""


def test_a_second_replica_waits_while_one_is_being_restarted() -> None:
    load = ServiceLoad(in_flight={"llm/0": NOW + 30}, recent=(NOW - 1,))
    decision = decide(ask("llm/1"), guards(max_unavailable=1), load, NOW)
    assert decision.verdict == Verdict.DEFERRED
    assert decision.guard == "blast_radius"
    assert decision.until == NOW + 30  # when the slot expires at the latest
    assert "llm/0" in decision.reason and "max_unavailable 1 = 1" in decision.reason


def test_the_replica_holding_the_slot_may_be_restarted_again() -> None:
    load = ServiceLoad(in_flight={"llm/0": NOW + 30}, recent=(NOW - 1,))
    assert decide(ask("llm/0"), guards(max_unavailable=1), load, NOW).allowed


def test_an_expired_slot_does_not_count() -> None:
    load = ServiceLoad(in_flight={"llm/0": NOW}, recent=())  # expired exactly now
    assert decide(ask("llm/1"), guards(max_unavailable=1), load, NOW).allowed


def test_a_percentage_lets_that_share_of_the_replicas_go_at_once() -> None:
    g = guards(max_unavailable="50%")
    one = ServiceLoad(in_flight={"llm/0": NOW + 9}, recent=())
    two = ServiceLoad(in_flight={"llm/0": NOW + 9, "llm/1": NOW + 5}, recent=())
    assert decide(ask("llm/2"), g, one, NOW).allowed  # 1 of 2
    blocked = decide(ask("llm/2"), g, two, NOW)
    assert blocked.verdict == Verdict.DEFERRED
    assert blocked.until == NOW + 5  # the first slot to expire


# --- rate limit -------------------------------------------------------------------------------


def test_the_rate_limit_defers_until_the_oldest_action_leaves_the_window() -> None:
    g = guards(rate_actions=3, rate_window=600.0, max_unavailable="100%")
    load = ServiceLoad(in_flight={}, recent=(NOW - 500, NOW - 100, NOW - 10))
    decision = decide(ask(), g, load, NOW)
    assert decision.verdict == Verdict.DEFERRED
    assert decision.guard == "rate_limit"
    assert decision.until == NOW - 500 + 600
    # a moment after that the oldest has left: allowed
    assert decide(ask(), g, load, NOW + 100.001).allowed


def test_actions_older_than_the_rate_window_do_not_count() -> None:
    g = guards(rate_actions=2, rate_window=60.0)
    load = ServiceLoad(in_flight={}, recent=(NOW - 60, NOW - 61, NOW - 5))
    assert decide(ask(), g, load, NOW).allowed  # only NOW - 5 is inside (NOW - 60, NOW]


def test_with_more_actions_than_the_limit_the_wait_is_for_enough_of_them_to_leave() -> None:
    g = guards(rate_actions=2, rate_window=100.0)
    load = ServiceLoad(in_flight={}, recent=(NOW - 90, NOW - 50, NOW - 20))
    decision = decide(ask(), g, load, NOW)
    # two must leave for one more to fit: the second oldest leaves at NOW - 50 + 100
    assert decision.until == NOW + 50


# --- maintenance windows, operator states, dry-run, escalation --------------------------------


def test_inside_a_maintenance_window_the_action_is_suppressed_until_it_ends() -> None:
    window = MaintenanceWindow(name="patching", cron="0 8 * * 5", duration=7200)  # Fri 08-10
    decision = decide(ask(), guards(windows=(window,)), IDLE, NOW + 60)
    assert decision.verdict == Verdict.SUPPRESSED
    assert decision.guard == "window"
    assert decision.until == NOW + 7200
    assert "patching" in decision.reason
    assert decide(ask(), guards(windows=(window,)), IDLE, NOW + 7200).allowed  # [start, end)


@pytest.mark.parametrize("state", ["maint", "draining"])
def test_a_replica_an_operator_took_out_of_its_balancer_is_left_alone(state: str) -> None:
    decision = decide(ask(admin_state=state), guards(), IDLE, NOW)
    assert decision.verdict == Verdict.SUPPRESSED
    assert decision.guard == "operator"
    assert decision.until is None
    assert state in decision.reason


@pytest.mark.parametrize("state", [None, "ready"])
def test_a_ready_or_unbalanced_replica_is_healed(state: str | None) -> None:
    assert decide(ask(admin_state=state), guards(), IDLE, NOW).allowed


def test_dry_run_records_what_would_be_done_and_does_nothing() -> None:
    decision = decide(ask(), guards(dry_run=True), IDLE, NOW)
    assert decision.verdict == Verdict.DRY_RUN
    assert not decision.allowed and not decision.escalate
    assert "would restart" in decision.reason


def test_a_replica_never_live_after_k_restarts_is_refused_and_escalated() -> None:
    g = guards(escalate_after=3)
    assert decide(ask(never_live_restarts=2), g, IDLE, NOW).allowed
    decision = decide(ask(never_live_restarts=3), g, IDLE, NOW)
    assert decision.verdict == Verdict.REFUSED and decision.escalate
    assert decision.guard == "never_live"
    assert "3 restart(s)" in decision.reason


# --- the order of the guards ------------------------------------------------------------------


def test_escalation_comes_before_every_other_guard() -> None:
    window = MaintenanceWindow(cron="* * * * *", duration=3600)
    g = guards(escalate_after=1, dry_run=True, windows=(window,))
    decision = decide(ask(never_live_restarts=1, admin_state="maint"), g, IDLE, NOW)
    assert decision.guard == "never_live"


def test_an_operator_state_comes_before_a_window_and_a_window_before_dry_run() -> None:
    window = MaintenanceWindow(cron="* * * * *", duration=3600)
    g = guards(dry_run=True, windows=(window,))
    assert decide(ask(admin_state="maint"), g, IDLE, NOW).guard == "operator"
    assert decide(ask(), g, IDLE, NOW).guard == "window"
    assert decide(ask(), guards(dry_run=True), IDLE, NOW).guard == "dry_run"


def test_dry_run_is_not_held_by_the_rate_limit_or_the_blast_radius() -> None:
    # what would be done is recorded at once; a dry run never takes a slot or a rate token
    busy = ServiceLoad(in_flight={"llm/1": NOW + 60}, recent=(NOW - 1,))
    g = guards(dry_run=True, max_unavailable=1, rate_actions=1)
    assert decide(ask(), g, busy, NOW).verdict == Verdict.DRY_RUN


def test_the_rate_limit_speaks_before_the_blast_radius() -> None:
    busy = ServiceLoad(in_flight={"llm/1": NOW + 60}, recent=(NOW - 1,))
    decision = decide(ask(), guards(max_unavailable=1, rate_actions=1), busy, NOW)
    assert decision.guard == "rate_limit"


# --- per-service settings over the global ones ------------------------------------------------


def test_a_service_section_overrides_the_global_fields_and_adds_its_windows() -> None:
    from vigil.settings import RateLimit, ServiceRemediation

    glob = RemediationSettings(
        max_unavailable=2,
        rate_limit=RateLimit(actions=5, window=60),
        windows=[MaintenanceWindow(name="all", cron="0 2 * * 6", duration=3600)],
    )
    own = ServiceRemediation(
        dry_run=True, windows=[MaintenanceWindow(name="mine", cron="0 3 * * 0", duration=60)]
    )
    eff = effective_remediation(glob, own)
    assert (eff.dry_run, eff.max_unavailable, eff.rate_actions, eff.rate_window) == (
        True,
        2,
        5,
        60.0,
    )
    assert [w.name for w in eff.windows] == ["all", "mine"]
    assert effective_remediation(glob, None).dry_run is False
