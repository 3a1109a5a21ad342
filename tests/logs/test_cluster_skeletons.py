"""Grouping by the shape of compound values (branch unseen15): two names whose differing part
is joined by a dot, backslash, ``#``, ``@`` or colon and that have one skeleton
(:func:`vigil.logs._cluster.joined_names`, :func:`vigil.logs._cluster.skeleton`)."""

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


def test_two_joined_names_in_a_two_word_message_are_one_value_at_the_second_line() -> None:
    # Go stack frames after a masked depth: file, line and function, one value; the second
    # line must get the first one's id as it arrives (the CLI prints ids as lines come)
    miner = TemplateMiner()
    first = miner.cluster_of("7: internal/logger/logger.go:258:logger.LogIf()").id
    second = miner.cluster_of("8: cmd/erasure-object.go:1123:cmd.erasureObjects.putObject()").id
    assert second == first
    assert miner.clusters[first].template.startswith("<*>: <*>")


def test_two_cache_keys_and_two_users_at_a_database_are_values() -> None:
    _, ids = _ids(
        [
            '"msg":"cache miss for key user:42:profile"}',
            '"msg":"cache miss for key product:1187:stock"}',
        ]
    )
    assert len(set(ids)) == 1
    tail = " new connection to server (from 10.0.4.9:6432)"
    _, ids = _ids(
        [
            "C-0x55d3a8e1c2a0: appdb/app@10.0.4.21:51544" + tail,
            "C-0x55d3a8e1c4b8: reports/analyst@10.0.4.33:40112" + tail,
        ]
    )
    assert len(set(ids)) == 1


def test_two_joined_names_that_look_alike_stay_events() -> None:
    # Android broadcast actions (Loghub HealthApp's labels: two events) and Java frames of one
    # class (two frames, two lines of a stack trace)
    _, ids = _ids(
        [
            "onReceive action: android.intent.action.SCREEN_ON",
            "onReceive action: android.intent.action.SCREEN_OFF",
        ]
    )
    assert len(set(ids)) == 2
    _, ids = _ids(
        [
            "at org.apache.hadoop.ipc.Client.call(Client.java:1475)",
            "at org.apache.hadoop.ipc.Client$Connection.setupIOstreams(Client.java:705)",
        ]
    )
    assert len(set(ids)) == 2


def test_two_functions_called_with_joined_arguments_stay_events() -> None:
    # the join is in the arguments both lines share, not in the names that differ
    _, ids = _ids(
        [
            'Executing [600@internal:1] Answer("PJSIP/1001-00000031", "") in new stack',
            'Executing [600@internal:1] Dial("PJSIP/1002-00000033", "PJSIP/1001,30") in new stack',
        ]
    )
    assert len(set(ids)) == 2


def test_two_plain_words_or_slash_pairs_are_not_joined_names() -> None:
    _, ids = _ids(["Backend is offline", "Backend is online"])
    assert len(set(ids)) == 2
    _, ids = _ids(["link up/down", "link down/up"])
    assert len(set(ids)) == 2
