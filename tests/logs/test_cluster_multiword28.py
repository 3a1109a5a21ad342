"""A free text after a label ending in a colon (branch multiword28): two lines of one statement
whose error or verdict texts differ in words and in number of words are one template with one
``<*>`` for the text; lines whose fixed words differ, texts that end the line unframed and a
message's first word stay apart."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _mined(lines: list[str]) -> tuple[list[int], TemplateMiner]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return [miner.resolve(i) for i in ids], miner


def test_error_texts_after_a_label_are_one_value_whatever_their_length() -> None:
    ids, miner = _mined(
        [
            "Re-init the cache on error: connection closed. cache/cache.go:1227",
            "Re-init the cache on error: watcher is closed: EOF. cache/cache.go:1227",
            "Re-init the cache on error: context deadline exceeded while waiting. cache/cache.go:9",
        ]
    )
    assert ids[0] == ids[1] == ids[2]
    assert miner.clusters[ids[0]].template == (
        "Re-init the cache on error: <*>. cache/cache.go:<*>"
    )


def test_a_text_inside_a_message_followed_by_the_statements_words_is_one_value() -> None:
    ids, miner = _mined(
        [
            "Probing of http://10.42.3.17:8012 failed, IP: 10.42.3.17:8012, ready: false, error: "
            "dial tcp 10.42.3.17:8012: connect: connection refused (depth: 0)",
            "Probing of http://10.42.3.18:8012 failed, IP: 10.42.3.18:8012, ready: false, error: "
            "unexpected status code 503 (depth: 1)",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template.endswith("error: <*> (depth: <*>)")


def test_a_text_closed_by_the_bracket_opened_before_its_label_is_one_value() -> None:
    ids, _ = _mined(
        [
            "10.0.1.5:443 (ID:4123) -> 10.0.2.7:52114 (ID:8811) to-endpoint FORWARDED "
            "(TCP Flags: ACK)",
            "10.0.1.5:443 (ID:4123) -> 10.0.2.7:52116 (ID:8811) to-endpoint FORWARDED "
            "(TCP Flags: SYN, ACK, PSH)",
        ]
    )
    assert ids[0] == ids[1]


def test_texts_ending_the_line_unframed_stay_the_events_words() -> None:
    # Loghub-2.0's BGL labels keep strerror's texts: two events, as on main
    ids, _ = _mined(
        [
            "ciod: LOGIN chdir(/p/gb1/stella/RAPTOR/2183) failed: No such file or directory",
            "ciod: LOGIN chdir(/p/gb1/stella/RAPTOR/2183) failed: Input/output error",
        ]
    )
    assert ids[0] != ids[1]


def test_a_first_word_label_and_other_fixed_words_keep_events_apart() -> None:
    # a kernel subsystem's prefix is the message's first word, not a phrase's label
    ids, _ = _mined(["ACPI: Interpreter disabled. now", "ACPI: Subsystem revision 20040816 now"])
    assert ids[0] != ids[1]
    # the words before the label differ: two statements, whatever their texts
    ids, _ = _mined(
        [
            "Re-init the cache on error: connection closed. cache/cache.go:1227",
            "Failed to renew the lease on error: watcher is closed: EOF. cache/cache.go:1227",
        ]
    )
    assert ids[0] != ids[1]
    # a value before the colon is no label (OpenSSH's reason codes keep their texts)
    ids, _ = _mined(
        [
            "Received disconnect from 10.0.0.1: 11: Bye Bye [preauth]",
            "Received disconnect from 10.0.0.2: 11: Closed due to user request. [preauth]",
        ]
    )
    assert ids[0] != ids[1]
    # a run of key=value fields after a label is the event's
    ids, _ = _mined(
        [
            "Applied new settings for node gpu-7: mode=fast retries=3 done now",
            "Applied new settings for node gpu-7: mode=slow done now",
        ]
    )
    assert ids[0] != ids[1]


def test_a_text_whose_end_or_start_is_not_marked_stays_the_events_words() -> None:
    # a plain word after the texts may be their own: Kerberos' two failures stay apart
    ids, _ = _mined(
        [
            "preauth (encrypted_timestamp) verify failure: Decrypt integrity check failed",
            "preauth (encrypted_timestamp) verify failure: Preauthentication failed",
        ]
    )
    assert ids[0] != ids[1]
    # a quoted value between the label and the first difference: MySQL's two aborts
    ids, _ = _mined(
        [
            "Aborted connection 12 to db: 'shop' user: 'app' host: '10.0.0.1' "
            "(Got timeout reading communication packets)",
            "Aborted connection 13 to db: 'shop' user: 'app' host: '10.0.0.2' "
            "(Got an error reading communication packets)",
        ]
    )
    assert ids[0] != ids[1]
    # a bracket opened inside the text closes it, not one opened before the label
    ids, _ = _mined(
        [
            "cluster [WRN] Health check failed: 1 osds down (OSD_DOWN)",
            "cluster [WRN] Health check failed: Reduced data availability: 3 pgs peering "
            "(PG_AVAILABILITY)",
        ]
    )
    assert ids[0] != ids[1]
