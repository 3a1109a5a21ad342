"""Lists of varying length (branch lists18): a framed list of items separated
by ``, `` that differs only in its number of items is one value (Kerberos' encryption types,
cloud-init's command lists), and the lists and fields that must stay apart."""

from __future__ import annotations

from vigil.logs import TemplateMiner, dumps, loads
from vigil.logs._spans import span_slot

_ETYPES = [
    "aes256-cts-hmac-sha1-96(18),",
    "aes128-cts-hmac-sha1-96(17),",
    "aes256-cts-hmac-sha384-192(20),",
    "aes128-cts-hmac-sha256-128(19),",
    "DEPRECATED:des3-cbc-sha1(16),",
    "DEPRECATED:arcfour-hmac(23),",
    "camellia128-cts-cmac(25),",
    "camellia256-cts-cmac(26),",
]


def _as_req(n: int, client: str, address: str) -> str:
    items = " ".join(_ETYPES[:n])[:-1]  # the last item has no comma
    return (
        f"AS_REQ ({n} etypes {{{items}}}) {address}: NEEDED_PREAUTH: {client}@LAB.INTERNAL for "
        "krbtgt/LAB.INTERNAL@LAB.INTERNAL, Additional pre-authentication required"
    )


def _ids(lines: list[str], miner: TemplateMiner) -> list[int]:
    return [miner.cluster_of(line).id for line in lines]


def test_a_braced_list_of_two_to_eight_items_is_one_value() -> None:
    miner = TemplateMiner()
    lines = [
        _as_req(8, "alice", "10.1.0.57"),
        _as_req(6, "bob", "10.1.0.61"),
        _as_req(4, "carol", "10.1.0.72"),
        _as_req(2, "dave", "10.1.0.88"),
        _as_req(8, "erin", "10.1.0.90"),
    ]
    ids = _ids(lines, miner)
    assert len(set(ids)) == 1
    template = miner.clusters[ids[0]].template
    assert template.startswith("AS_REQ (<*> etypes {<*>}) <*>: NEEDED_PREAUTH: <*>")
    # saved and loaded, the ids hold and a list of another length still finds the cluster
    again = loads(dumps(miner))
    assert _ids([_as_req(4, "frank", "10.1.0.91"), _as_req(6, "gina", "10.1.0.92")], again) == [
        ids[0],
        ids[0],
    ]


def test_a_longer_list_against_a_shorter_one_spans_the_whole_list() -> None:
    have = [
        "Running",
        "command",
        "['cloud-init',",
        "'modules',",
        "'--mode',",
        "'final']",
        "with",
        "allowed",
        "codes",
    ]
    line = ["Running", "command", "['growpart',", "'/dev/vda',", "'1']", "with", "allowed", "codes"]
    span = span_slot(have, [0] * len(have), line)
    assert span is not None
    assert (span.start, span.stop, span.line_stop, span.slot) == (2, 6, 5, "[<*>]")


def test_lists_that_differ_outside_the_frame_or_are_fields_stay_apart() -> None:
    # the words after the list differ too: another event
    have = ["Sent", "(a,", "b,", "c)", "to", "peer", "now", "ok"]
    line = ["Sent", "(a,", "b)", "from", "peer", "now", "ok"]
    assert span_slot(have, [0] * len(have), line) is None
    # a run of key=value fields is the event's
    fields = ["etypes", "{rep=a(18),", "tkt=b(17),", "ses=c(18)}", "for", "alice", "done"]
    fewer = ["etypes", "{rep=a(18),", "tkt=b(17)}", "for", "alice", "done"]
    assert span_slot(fields, [0] * len(fields), fewer) is None
    # plain words in a sentence, no frame: not a value
    plain = ["Loaded", "modules", "a,", "b,", "c", "and", "started"]
    shorter = ["Loaded", "modules", "a,", "b", "and", "started"]
    assert span_slot(plain, [0] * len(plain), shorter) is None


def test_a_list_of_one_item_stays_apart_from_an_unrelated_frame() -> None:
    miner = TemplateMiner()
    ids = _ids(
        [
            "Members changed: [node-a, node-b, node-c] in view 12 of cluster main",
            "Members changed: [node-a] in view 13 of cluster main",
            "Members changed: (node-a, node-b) in view 14 of cluster main",
        ],
        miner,
    )
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]  # a parenthesis is not the bracket the list was framed in


def test_items_of_several_kinds_are_fields_not_a_list() -> None:
    # mosquitto (holdout10): p, c and k flags, and a user name in quotes only in some lines
    miner = TemplateMiner()
    ids = _ids(
        [
            "New client connected from 10.20.3.41:51234 as sensor-17 (p2, c1, k60, u'iot').",
            "New client connected from 10.20.4.12:37710 as auto-6F1D (p2, c1, k60).",
        ],
        miner,
    )
    assert ids[0] != ids[1]
