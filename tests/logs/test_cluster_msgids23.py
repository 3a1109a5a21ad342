"""A catalogue message id opening a message is kept as a word (branch ids23): constant per
statement, as the labels write FRR's ``[XXXXX-XXXXX]`` and Kea's ids; a value of the same shape
in that place (a request id on many lines of one statement, a hex trace id) stays a value."""

from __future__ import annotations

import pytest
from tests.logs._resolved import resolved_templates

from vigil.logs import Cluster, TemplateMiner
from vigil.logs._msgids import catalogue_id, id_places


@pytest.mark.parametrize(
    "word",
    [
        "[M59KS-A3ZXZ]",  # FRR
        "CWWKF0011I:",  # Open Liberty / WebSphere
        "IEF403I",  # z/OS
        "ORA-12541:",  # Oracle
        "[MY-010931]",  # MySQL 8
        "DHCP4_LEASE_ALLOC",  # Kea
        "%BGP-5-ADJCHANGE:",  # Cisco IOS
    ],
)
def test_catalogue_ids_of_many_programs_have_the_shape(word: str) -> None:
    assert catalogue_id(word)


@pytest.mark.parametrize(
    "word",
    ["[4BF92F3577B34DA6]", "[DEADBEEF]", "HEALTH_WARN", "[A1]", "[m59ks-a3zxz]", "Ready:"],
)
def test_hex_ids_words_without_digits_and_lower_case_are_not_catalogue_ids(word: str) -> None:
    assert not catalogue_id(word)


def test_the_id_places_are_the_first_word_and_a_bracket_after_a_tag() -> None:
    assert id_places(["[M59KS-A3ZXZ]", "peer", "up"]) == (0,)
    assert id_places(["BGP:", "[M59KS-A3ZXZ]", "peer", "up"]) == (0, 1)
    assert id_places(["peer", "[M59KS-A3ZXZ]", "up"]) == (0,)
    assert id_places([]) == ()


def test_each_statement_keeps_its_bracketed_message_id() -> None:
    # FRR (holdout22's frr_bgpd): main's masks made every id "[<*>]"
    ids, templates = resolved_templates(
        [
            "[SX0R9-NUKW4] zebra 9.1.1 starting: vty@2601",
            "[Q5W0B-F1A6J] bgpd 9.1.1 starting: vty@2605",
            "[M59KS-A3ZXZ] peer 10.0.0.2 went from Established to Idle",
            "[M59KS-A3ZXZ] peer 10.0.0.3 went from Established to Idle",
        ]
    )
    assert ids[2] == ids[3] and len(set(ids)) == 3
    # the vty's name kept before its port since objrefs33, as holdout22's labels have it
    assert templates[0] == "[SX0R9-NUKW4] zebra <*> starting: vty@<*>"
    assert templates[1] == "[Q5W0B-F1A6J] bgpd <*> starting: vty@<*>"
    assert templates[3] == "[M59KS-A3ZXZ] peer <*> went from Established to Idle"


def test_a_bare_message_id_before_a_colon_stays_in_its_template() -> None:
    # Open Liberty's CWWK... ids with a severity letter: main made them "<*>:"
    ids, templates = resolved_templates(
        [
            "CWWKE0001I: The server defaultServer has been launched.",
            "CWWKZ0001I: Application orders started in 3.2 seconds.",
            "CWWKZ0001I: Application orders started in 1.4 seconds.",
        ]
    )
    assert ids[1] == ids[2] != ids[0]
    assert templates[0] == "CWWKE0001I: The server defaultServer has been launched."
    assert templates[2] == "CWWKZ0001I: Application orders started in <*> seconds."


def test_an_id_after_a_daemon_tag_left_in_the_message_is_kept() -> None:
    # FRR's raw lines: the detection leaves "BGP:" in the message, the id after it
    _, templates = resolved_templates(
        [
            "BGP: [M59KS-A3ZXZ] peer 10.0.0.2 went from Established to Idle",
            "BGP: [M59KS-A3ZXZ] peer 10.0.0.3 went from Established to Idle",
        ]
    )
    assert templates[1] == "BGP: [M59KS-A3ZXZ] peer <*> went from Established to Idle"


def test_request_ids_of_the_same_shape_on_one_statement_are_a_value() -> None:
    # near miss: many ids, one statement; one id starts with a digit (masked whole by the
    # word masks), the others are kept at first: all one cluster, "[<*>]"
    lines = [
        f"[{rid}] GET /api/items took {ms} ms"
        for rid, ms in [("7KQ2M9XZ", 12), ("P3LX8W2A", 15), ("B9Z4Q1RT", 7), ("QX7R2M4N", 3)]
    ]
    ids, templates = resolved_templates(lines)
    assert len(set(ids)) == 1
    assert templates[-1] == "[<*>] GET <*> took <*> ms"
    ids, templates = resolved_templates(lines[1:3])
    assert ids[0] == ids[1] and templates[-1] == "[<*>] GET <*> took <*> ms"


def test_a_hex_trace_id_and_an_id_shape_elsewhere_stay_values() -> None:
    ids, templates = resolved_templates(
        ["[4BF92F3577B34DA6] span closed after 12 ms", "[00F067AA0BA902B7] span closed after 5 ms"]
    )
    assert ids[0] == ids[1] and templates[0] == "[<*>] span closed after <*> ms"
    _, templates = resolved_templates(["job finished on node R25-M1-N2 in 5 s"])
    assert templates[0] == "job finished on node <*> in <*> s"


class _CountingMiner(TemplateMiner):
    slow_lines = 0

    def _slow(self, content: str, masked: str) -> Cluster:
        self.slow_lines += 1
        return super()._slow(content, masked)


def test_new_request_ids_on_a_statement_whose_id_place_is_a_value_skip_the_slow_path() -> None:
    # the id kept in the masked line made every new id a new signature: each such line took
    # the slow path (2.5x the CPU on a stream of them); its line masked with no id kept finds
    # the cluster that made the place "[<*>]"
    miner = _CountingMiner()
    rids = ["P3LX8W2A", "B9Z4Q1RT", "QX7R2M4N", "KD8F3J2L", "ZT4M9R2C", "HW3N8B5X"]
    for rid in rids:
        miner.cluster_of(f"[{rid}] GET /api/items took 12 ms")
    assert len(miner.clusters) == 1
    assert miner.slow_lines == 2  # the first id, then the second that made the place a value
