"""Values the masks found, met by the miner (branch mask21): a masked value alone in brackets
opening a message is filed as a bracketed name is, and a value of several words after a key
keeps the key's brackets out of it."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def test_a_reverse_zone_in_brackets_meets_the_forward_zones() -> None:
    # Knot DNS (holdout20): one event per zone, the zone a value in brackets
    ids, templates = _run(
        [
            "[example.com.] zone will be loaded",
            "[lab.internal.] zone will be loaded",
            "[0.6.10.in-addr.arpa.] zone will be loaded",
        ]
    )
    assert len(set(ids)) == 1
    assert templates[-1] == "[<*>] zone will be loaded"


def test_a_masked_value_in_brackets_first_meets_a_name_there_in_either_order() -> None:
    ids, templates = _run(
        [
            "[0.6.10.in-addr.arpa.] zone file parsed, serial 41",
            "[example.com.] zone file parsed, serial 2026112901",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "[<*>] zone file parsed, serial <*>"


def test_bracketed_events_of_other_words_stay_apart() -> None:
    ids, _ = _run(["[12345] worker started now", "[main] worker stopped now"])
    assert ids[0] != ids[1]
