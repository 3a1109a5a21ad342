"""The span rules' share of agreeing words counts the message's words alone (spanshare29)."""

from __future__ import annotations

import pytest

from vigil.logs._cluster import LITERAL
from vigil.logs._share import message_start
from vigil.logs._spans import span_slot

HEADER = ["node1", "corosync", "notice", "[SERV", "]"]
"""Header fields the automatic detection leaves in a raw Corosync message."""

PAIRS = [
    # a label's texts that open with the same words: those words agree (joined on both feeds)
    (
        "Service engine loaded: corosync configuration map access [0]",
        "Service engine loaded: corosync configuration service [1]",
    ),
    # a short message whose quoted value differs: one word of two agrees (apart on both feeds)
    ("Loaded 'NFS'", "Loaded 'GPU Temp'"),
    # a label's texts with nothing in common: 3 of 6 agree (apart on both feeds)
    ("Sync failed: disk full [0]", "Sync failed: peer closed the link [1]"),
]


def _slot(cluster: str, line: str, header: list[str]) -> tuple[int, int, int] | None:
    words = [*header, *cluster.split()]
    span = span_slot(words, [LITERAL] * len(words), [*header, *line.split()])
    return None if span is None else (span.start - len(header), span.stop, span.line_stop)


@pytest.mark.parametrize(("cluster", "line"), PAIRS)
def test_a_span_decision_does_not_depend_on_header_words_left_in_the_message(
    cluster: str, line: str
) -> None:
    alone, headed = _slot(cluster, line, []), _slot(cluster, line, HEADER)
    assert (alone is None) == (headed is None)
    if alone is not None and headed is not None:
        assert alone[0] == headed[0]  # the same span, moved by the header's words


def test_the_texts_first_words_after_a_label_agree_in_the_share() -> None:
    assert _slot(*PAIRS[0], []) is not None
    assert _slot(*PAIRS[1], []) is None
    assert _slot(*PAIRS[2], []) is None


def test_the_message_starts_after_the_last_closed_bracket_before_the_span() -> None:
    words = ["node1", "corosync", "notice", "[SERV", "]", "Service", "engine", "loaded:", "x"]
    assert message_start(words, 8) == 5
    assert message_start(words, 4) == 0  # "[SERV" is open: no field closed yet
    assert message_start(["Service", "engine", "loaded:", "x"], 3) == 0


def test_a_label_opening_the_message_opens_no_text_after_header_words() -> None:
    # a kernel's "ACPI:" opens its message: no statement's label, on either feed
    tail = "now scanning the devices of this host"
    cluster, line = f"ACPI: bus type PCI registered, {tail}", f"ACPI: Added new handler, {tail}"
    assert _slot(cluster, line, []) is None
    assert _slot(cluster, line, HEADER) is None
