"""Records of ``key:value`` fields (branch slots22): a lower-case key glued to its value by a
colon names that value as ``key=`` does, so records that differ in several such fields are one
event (:func:`vigil.logs._slots.keyed`, asked by :func:`vigil.logs._cluster._cost`); a key that
names the kind of record (``type:``, ``kind:``) keeps its kinds apart."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner, dumps, loads

from ._resolved import resolved_templates


@pytest.mark.parametrize(
    ("lines", "template"),
    [
        (  # Teleport's audit records: who logged in as whom, on which node
            [
                "session.start cluster_name:tele.example.net login:root server_hostname:gpu-node-07"
                " user:alice",
                "session.start cluster_name:tele.example.net login:ubuntu"
                " server_hostname:gpu-node-11 user:bob",
            ],
            "session.start cluster_name:<*> login:<*> server_hostname:<*> user:<*>",
        ),
        (
            [
                "exec command:nvidia-smi login:root user:alice",
                "exec command:htop login:ubuntu user:bob",
            ],
            "exec command:<*> login:<*> user:<*>",
        ),
    ],
)
def test_records_differing_in_several_key_value_fields_are_one_event(
    lines: list[str], template: str
) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] == ids[1]
    assert templates == [template, template]


def test_the_fields_hold_after_a_restart_from_saved_state() -> None:
    miner = TemplateMiner()
    first = miner.add("exec command:nvidia-smi login:root user:alice").cluster_id
    loaded = loads(dumps(miner))
    line = "exec command:htop login:ubuntu user:bob"
    assert loaded.add(line).cluster_id == miner.add(line).cluster_id == first
    assert loaded.templates()[0].template == "exec command:<*> login:<*> user:<*>"


@pytest.mark.parametrize(
    "lines",
    [
        ["audit record type:start user:alice done", "audit record type:stop user:alice done"],
        ["audit record kind:login user:alice done", "audit record kind:logout user:alice done"],
    ],
)
def test_a_key_naming_the_kind_of_record_keeps_its_kinds_apart(lines: list[str]) -> None:
    ids, templates = resolved_templates(lines)
    assert ids[0] != ids[1]
    assert templates == lines


def test_keyed_reads_a_lower_case_key_glued_by_a_colon() -> None:
    from vigil.logs._slots import keyed

    assert keyed("user:alice", "user:bob") == ":"
    assert keyed("login:<*>", "login:ubuntu") == ":"
    assert keyed("server_hostname:gpu-node-07", "server_hostname:web") == ":"
    assert keyed("type:start", "type:stop") == ""  # the kind of record
    assert keyed("http://a", "http://b") == ""  # a URL's scheme
    assert keyed("User:alice", "User:bob") == ""  # a capital: a label, not a field
    assert keyed("user:", "user:bob") == ""  # no value on one side
    assert keyed("alice", "bob") == ""
