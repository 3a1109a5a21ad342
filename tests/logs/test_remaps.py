"""Merges and their id remapping, as a consumer of :meth:`TemplateMiner.add` sees them.

Issue 4: "templates merged/refined with id remapping reported". A consumer that keeps the id
of every line it was given and follows each ``Match.remapped`` must end with the ids the miner
holds; every id the miner answers is a live cluster's; every line is counted once.
"""

from __future__ import annotations

import pytest

from vigil.logs import LogFormat, TemplateMiner
from vigil.logs._parser import LineParser

from ._corpora import LOGHUB, SETS, TSV, fixture_contents, loghub_contents

# A run found by a random search over a small grammar: cluster 4 merges into 3, then 3 into 2
# on the line that widened 3.
CHAIN = [
    "query blue zone via TXT from host",
    "query red zone via MX from host",
    "query green zone via MX from client",
    "query blue zone via MX from client",
    "query user=ann zone via TXT for host",
    "query blue zone via AAAA for peer",
    "query cyan zone via MX from client",
    "query user=bob zone via AAAA for server",
    "query blue zone via MX from server",
    "query green zone via AAAA for server",
]


def _follow(miner: TemplateMiner, contents: list[str]) -> None:
    """Feed ``contents`` through ``add`` as a consumer would, and check the contract."""
    ids: list[int] = []
    for content in contents:
        match = miner.add(content)
        for gone, survivor in match.remapped:
            ids = [survivor if i == gone else i for i in ids]
        assert match.cluster_id in miner.clusters, (content, match)
        assert miner.clusters[match.cluster_id].template == match.template
        ids.append(match.cluster_id)
    assert ids == [miner.resolve(i) for i in ids]
    assert set(ids) <= set(miner.clusters)
    assert sum(c.count for c in miner.clusters.values()) == len(contents)
    for cid in set(ids):
        assert miner.clusters[cid].count == ids.count(cid)


def test_the_line_whose_widening_merges_its_cluster_away_gets_the_survivor() -> None:
    miner = TemplateMiner()
    _follow(miner, CHAIN)
    assert miner.resolve(4) == 2
    again = miner.add(CHAIN[-2])  # the same line once more: the signature cache's answer
    assert again.cluster_id == 2
    assert again.cluster_id in miner.clusters


def test_the_cli_parser_never_answers_a_cluster_merged_away() -> None:
    parser = LineParser(LogFormat("<Content>"), TemplateMiner())
    for line in [*CHAIN, CHAIN[-2], CHAIN[-2]]:
        cluster, _ = parser.parse(line)
        assert cluster.id in parser.miner.clusters, line
    assert sum(c.count for c in parser.miner.clusters.values()) == len(CHAIN) + 2


@pytest.mark.parametrize("name", TSV)
def test_a_consumer_following_the_remaps_of_a_fixture_ends_with_the_miners_ids(
    name: str,
) -> None:
    _follow(TemplateMiner(), fixture_contents(name))


@pytest.mark.skipif(LOGHUB is None, reason="the shared Loghub data is not here")
@pytest.mark.parametrize("name", SETS)
def test_a_consumer_following_the_remaps_of_a_loghub_set_ends_with_the_miners_ids(
    name: str,
) -> None:
    _follow(TemplateMiner(), loghub_contents(name))


def test_an_eviction_keeps_the_remaps_of_ids_merged_twice() -> None:
    """4 was merged into 3, then 3 into 2: while 2 lives, 4 resolves to it, evictions or not."""
    miner = TemplateMiner(max_clusters=len(CHAIN) - 4)
    _follow(miner, CHAIN)
    assert len(miner.clusters) == miner.max_clusters
    miner.add("an event of its own")  # one cluster too many: the least recently seen goes
    assert 1 not in miner.clusters
    assert 2 in miner.clusters
    assert miner.resolve(4) == 2
    assert miner.resolve(3) == 2


def test_a_match_reports_the_merges_of_its_own_line_only() -> None:
    """Lines mined with ``cluster_of`` (no Match: the CLI's way) left their last merge behind,
    and the next ``add`` reported it as its own, ``changed`` on a line that changed nothing."""
    miner = TemplateMiner()
    for line in CHAIN:
        miner.cluster_of(line)
    assert miner.remaps()  # merges happened, and remaps() has them
    match = miner.add("an event of its own")
    assert (match.changed, match.remapped) == (False, ())
