"""Grouping rules added in the holdout12 round: values told by their number, not their marks."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def test_three_words_in_one_slot_of_a_three_word_message_make_one_event() -> None:
    miner = TemplateMiner()
    lines = [
        "Starting provider *file.Provider",
        "Starting provider *docker.Provider",
        "Starting provider *traefik.Provider",
    ]
    ids = [miner.cluster_of(line).id for line in lines]
    ids = [miner.resolve(i) for i in ids]  # the third line merges the first two into one
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "Starting provider <*>"


def test_two_words_in_a_slot_of_a_three_word_message_stay_two_events() -> None:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in ("Disk is full", "Disk is clean")]
    assert ids[0] != ids[1]
    # nor does a third word merge them when the other words differ too
    third = miner.cluster_of("Fan is slow").id
    assert third not in ids


def test_a_lower_case_name_in_brackets_opening_a_message_is_its_subject() -> None:
    miner = TemplateMiner()
    lines = ["[sshd] Ban 203.0.113.7", "[nginx-http-auth] Ban 45.155.205.233"]
    ids = [miner.cluster_of(line).id for line in lines]
    ids = [miner.resolve(i) for i in ids]
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "[<*>] Ban <*>"
    # a different event after the same kind of tag stays apart
    assert miner.resolve(miner.cluster_of("[sshd] Unban 203.0.113.7").id) != ids[0]
    # a capitalised tag (a level, a tag of the message) is not a subject
    other = TemplateMiner()
    a = other.cluster_of("[ERROR] Ban 203.0.113.7").id
    b = other.cluster_of("[NOTICE] Ban 203.0.113.7").id
    assert other.resolve(a) != other.resolve(b)


def test_a_part_glued_to_the_first_word_in_brackets_is_a_value_of_it() -> None:
    miner = TemplateMiner()
    lines = [
        "query[A] api.github.com from 192.168.1.157",
        "query[AAAA] api.github.com from 10.0.0.2",
    ]
    ids = [miner.cluster_of(line).id for line in lines]
    ids = [miner.resolve(i) for i in ids]
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "query[<*>] <*> from <*>"
    a = miner.cluster_of("DHCPREQUEST(br0) 192.168.1.157 3c:22:fb:11:2a:90").id
    b = miner.cluster_of("DHCPREQUEST(br1) 192.168.20.61 b8:27:eb:4c:91:0e").id
    assert miner.resolve(a) == miner.resolve(b)
    # another name with the same part is another event
    c = miner.cluster_of("DHCPNAK(br0) 192.168.1.157 3c:22:fb:11:2a:90").id
    assert miner.resolve(c) != miner.resolve(a)
