"""Names ending a short message (branch slots21): two snake-, kebab- or CamelCase names as the
last word of a message of two or three words, the rest equal, are two values of one slot
(:func:`vigil.logs._slots.short_names`, asked by :func:`vigil.logs._cluster._cost`), although a
plain word there is the event's; plain words, a name against a name of another kind, names in
capitals, a state at the end of a name and a name in another frame keep their events apart."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner, dumps, loads

from ._resolved import resolved_templates


@pytest.mark.parametrize(
    ("lines", "template"),
    [
        (["Activating controller_server", "Activating planner_server"], "Activating <*>"),
        (["Lustre: Mounted scratch-client", "Lustre: Mounted home-client"], "Lustre: Mounted <*>"),
        (["Registering MapOutputTracker", "Registering BlockManagerMaster"], "Registering <*>"),
    ],
)
def test_two_names_ending_a_short_message_are_one_value(lines: list[str], template: str) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] == ids[1]
    assert templates == [template, template]


@pytest.mark.parametrize(
    "lines",
    [
        ["Starting nats-server", "Starting JetStream"],  # two kinds of name: two events
        ["Setting up http", "Setting up recorder"],  # plain words: the event's
        ["Broadcast SCREEN_ON", "Broadcast TIME_TICK"],  # constants' names: kinds of event
        ["Link state link_up", "Link state link_down"],  # a state varies at the end
        ["Mounted fs read-only", "Mounted fs read-write"],
        ["Loaded module mod_ssl", "Loaded module mod_rewrite"],  # (left: a prefix family)
        ["Started web-api now", "Started web-api later"],  # the name is not what differs
        ["Activating controller_server", "Activating 'planner_server'"],  # another frame
    ],
)
def test_words_that_are_no_names_of_one_kind_keep_their_events_apart(lines: list[str]) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] != ids[1]
    assert templates == lines


def test_the_slot_holds_after_a_restart_from_saved_state() -> None:
    miner = TemplateMiner()
    first = miner.add("Activating controller_server").cluster_id
    assert miner.add("Activating planner_server").cluster_id == first
    loaded = loads(dumps(miner))
    line = "Activating bt_navigator"
    assert loaded.add(line).cluster_id == miner.add(line).cluster_id == first
    assert loaded.templates()[0].template == "Activating <*>"


def test_short_names_are_program_written_names_of_one_kind() -> None:
    from vigil.logs._slots import short_names

    assert short_names("controller_server", "planner_server")  # whole parts differ
    assert short_names("home-client", "scratch-client")
    assert short_names("MapOutputTracker", "BlockManagerMaster")
    assert not short_names("nats-server", "JetStream")
    assert not short_names("NT_STATUS_OK", "NT_STATUS_ACCESS_DENIED")  # capitals: constants
    assert not short_names("link_up", "link_down")  # a state, at the end
    assert not short_names("Link_up", "LinkDown")  # two kinds of name
    assert not short_names("http", "recorder")  # no names
    assert not short_names("(mod_ssl)", "mod_rewrite")  # two frames
