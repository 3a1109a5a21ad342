"""Grouping by the shape of compound values (branch unseen15): names made of parts joined by
dots, slashes or backslashes, three or more in one slot of an otherwise equal message
(:func:`vigil.logs._cluster.skeleton`), or two that a join marks as names
(:func:`vigil.logs._cluster.joined_names`)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._cluster import skeleton


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_a_skeleton_writes_each_name_as_one_letter_and_keeps_masks_and_punctuation() -> None:
    assert skeleton("repo/view.go:<*>(repo.Home)") == "n:<*>(n)"
    assert skeleton("OCA\\\\Files\\\\BackgroundJob\\\\ScanFiles") == "n"
    assert skeleton("cmd/erasure-object.go:<*>:cmd.putObject()") == "n:<*>:n()"
    assert skeleton("message-id=<<*>>") == "n=<<*>>"
    assert skeleton("x.<*>") == "n.<*>"


def test_three_compound_names_of_one_skeleton_in_one_slot_are_one_value() -> None:
    # background job classes: backslashes in the differing part kept them three events
    tail = " (id: 12, arguments: null) in 3 sec"
    miner, ids = _ids(
        [
            "Finished OCA\\\\Files\\\\BackgroundJob\\\\ScanFiles" + tail,
            "Finished OC\\\\Authentication\\\\Token\\\\TokenCleanupJob" + tail,
            "Finished OCA\\\\DAV\\\\BackgroundJob\\\\CleanupInvitationTokenJob" + tail,
        ]
    )
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "Finished <*> (id: <*>, arguments: null) in <*> sec"


def test_three_compound_words_of_different_skeletons_stay_apart() -> None:
    # a queue id then three kinds of record: the words differ in their punctuation
    _, ids = _ids(
        [
            "4F2A1B3C: removed",
            "4F2A1B3D: message-id=<20261129.abc@example.com>",
            "4F2A1B3E: client=unknown[10.0.0.7]",
        ]
    )
    assert len(set(ids)) == 3


def test_three_torus_directions_with_a_sign_stay_events() -> None:
    _, ids = _ids(
        [
            "1 torus receiver z+ input pipe error(s) (dcr 0x02ec) detected and corrected",
            "1 torus receiver x+ input pipe error(s) (dcr 0x02ec) detected and corrected",
            "1 torus receiver y+ input pipe error(s) (dcr 0x02ec) detected and corrected",
        ]
    )
    assert len(set(ids)) == 3
