"""What the rules branch gather18 measured and refused would have joined: pairs the fixture
labels keep apart (``docs/benchmarks.md``, "Grouping misses across every development
directory"). Each test holds the behaviour the refused rule changed."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _ids(lines: list[str]) -> list[int]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return [miner.resolve(i) for i in ids]


def test_what_follows_a_label_to_the_line_end_is_not_one_value_by_itself() -> None:
    # refused "plain words to the line's end after a label:": a label opens an event as often
    # as it names a value
    ids = _ids(
        [
            "device (eth0): Activation: failed for connection 'Wired 1'",
            "device (eth1): Activation: successful, device activated.",
        ]
    )
    assert ids[0] != ids[1]
    ids = _ids(
        [
            "internal error: End of file from qemu monitor (vm='a')",
            "internal error: Failed to autostart storage pool 'b'",
        ]
    )
    assert ids[0] != ids[1]


def test_a_second_pair_of_differing_words_in_a_line_is_an_event_not_a_value() -> None:
    # refused "two word variables in one line": the second pair is most often a state
    ids = _ids(
        [
            "consistency state changed: Target ID: 3; From: GOOD; To: NEEDS_RESYNC",
            "consistency state changed: Target ID: 4; From: NEEDS_RESYNC; To: GOOD",
        ]
    )
    assert ids[0] != ids[1]
