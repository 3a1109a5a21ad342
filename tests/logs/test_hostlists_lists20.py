"""A comma list of ``host:port`` addresses is one value (branch lists20,
:mod:`vigil.logs._hostlists`): TiDB's ``tikv://a:p,b:p,c:p`` (holdout19) and Solr's ZooKeeper
string (holdout13), and words that must keep their masks."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._hostlists import fold_host_lists


def _folded(line: str) -> str:
    words = line.split()
    return " ".join(fold_host_lists(words, words))


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (
            '["new store"] [path=tikv://10.1.0.31:2379,10.1.0.32:2379,10.1.0.33:2379]',
            '["new store"] [path=tikv://<*>]',
        ),
        (
            "Zookeeper client=zk1.lab.internal:2181,zk2.lab.internal:2181,"
            "zk3.lab.internal:2181/solr",
            "Zookeeper client=<*>",
        ),
        ("peers are db1:5432,db2:5432.", "peers are <*>."),
    ],
)
def test_a_list_of_host_ports_is_one_value(line: str, want: str) -> None:
    assert _folded(line) == want


@pytest.mark.parametrize(
    "line",
    [
        "at 10:00:01,123 started",  # a clock with its milliseconds
        "from 10.0.0.1:80, 10.0.0.2:80 now",  # items apart: the words are the masks' work
        "one tikv://10.1.0.31:2379 only",  # one address
        "ports 80,443,8080 open",  # numbers, no hosts
    ],
)
def test_words_that_are_no_list_of_addresses_keep_their_masks(line: str) -> None:
    assert _folded(line) == line


def test_lists_of_two_and_three_servers_are_one_template() -> None:
    miner = TemplateMiner()
    three = miner.add("connecting to path=tikv://10.1.0.31:2379,10.1.0.32:2379,10.1.0.33:2379")
    two = miner.add("connecting to path=tikv://10.1.0.41:2379,10.1.0.42:2379")
    assert two.cluster_id == three.cluster_id
    assert two.template == "connecting to path=tikv://<*>"
