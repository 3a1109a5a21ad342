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


def test_a_keyed_value_of_several_words_keeps_the_brackets_after_its_key() -> None:
    # Kea (holdout20): cid=[no info] against cid=[01:52:54:00:3a:91:0c], the brackets Kea's
    def lease(cid: str, address: str) -> str:
        return (
            f"DHCP4_LEASE_ALLOC [hwtype=1 52:54:00:3a:91:0c], cid={cid}, tid=0x6a3f91c2: "
            f"lease {address} has been allocated for 3600 seconds"
        )

    ids, templates = _run(
        [lease("[no info]", "10.20.0.57"), lease("[01:b8:27:eb:4f:12:a0]", "10.20.0.58")]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == (
        "DHCP4_LEASE_ALLOC [hwtype=<*> <*>], cid=[<*>], tid=<*>: "
        "lease <*> has been allocated for <*> seconds"
    )
