"""Grouping rules added in the holdout13 round: a plain word after a noun naming a kind of
named thing is that thing's name."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_a_word_after_a_noun_naming_a_kind_of_thing_is_a_value() -> None:
    miner, ids = _ids(
        [
            "Setup of domain http took 0.21 seconds",
            "Setup of domain recorder took 1.04 seconds",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Setup of domain <*> took <*> seconds"
    miner, ids = _ids(
        [
            "org.apache.solr.common.SolrException: undefined field customer_nme",
            "org.apache.solr.common.SolrException: undefined field prise",
        ]
    )
    assert ids[0] == ids[1]


def test_a_word_after_another_noun_still_tells_two_events_apart() -> None:
    _, ids = _ids(
        ["Setup of stage http took 0.21 seconds", "Setup of stage sync took 1.04 seconds"]
    )
    assert ids[0] != ids[1]
    # nor does the noun make look-alike words one value
    _, ids = _ids(["Link on interface went up now", "Link on interface went down now"])
    assert ids[0] != ids[1]


def test_the_state_a_thing_changed_to_is_a_value() -> None:
    miner, ids = _ids(
        [
            "Interface Gi1/0/14, changed state to down",
            "Interface Gi1/0/14, changed state to up",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Interface <*>, changed state to <*>"


def test_a_transition_with_both_ends_stays_one_event_per_pair() -> None:
    # "from NEW to ALLOCATED" names an event (the Loghub ground truth keeps both states)
    _, ids = _ids(
        [
            "<*> Container Transitioned from NEW to ALLOCATED",
            "<*> Container Transitioned from NEW to ACQUIRED",
        ]
    )
    assert ids[0] != ids[1]
    # and a word after another "to" is a constant, as before
    _, ids = _ids(["Job <*> moved back to pending", "Job <*> moved back to running"])
    assert ids[0] != ids[1]
