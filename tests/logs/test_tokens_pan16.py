"""Masking rules of the pan16 round: values the labels write as ``<*>`` that the miner kept."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


def test_a_numbered_lower_case_name_alone_is_a_value() -> None:
    # one or two digits after a hyphen: an instance, a host, a member (three digits already were)
    assert mask("sensor-17") == "<*>"
    assert mask("consul-client-12") == "<*>"
    assert mask("gpu-node-07,") == "<*>,"
    assert mask("(nsd-3)") == "(<*>)"
    assert mask("es-node-117") == "<*>"


def test_a_numbered_name_after_a_key_or_in_capitals_or_glued_is_kept() -> None:
    assert mask("[sink|task-0]") == "[sink|task-0]"
    assert mask("id=sink-0") == "id=sink-0"
    assert mask("Interconnect-1") == "Interconnect-1"
    assert mask("S-1") == "S-1"
    assert mask("ssh2") == "ssh2"  # a weak word, as before
    assert mask("node2") == "node2"


def test_a_message_seen_once_shows_its_numbered_host_as_a_value() -> None:
    miner = TemplateMiner()
    assert miner.cluster_of("Client sensor-17 disconnected.").template == "Client <*> disconnected."
    member = miner.cluster_of("serf: EventMemberFailed: consul-client-12 10.0.3.12")
    assert member.template == "serf: EventMemberFailed: <*> <*>"
