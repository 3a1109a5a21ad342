"""One template, one id: a line's cluster never shows the template of another live cluster.

Two ids for one template split a count in two and make a consumer see two events where the
miner prints one. Checked as a property after every line of every fixture and of the six
Loghub sets, and on the case that broke it.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner

from ._corpora import LOGHUB, SETS, TSV, fixture_contents, loghub_contents


def _check(contents: list[str]) -> None:
    miner = TemplateMiner()
    for i, content in enumerate(contents):
        cluster = miner.cluster_of(content)
        twins = [
            c.id
            for c in miner.clusters.values()
            if c is not cluster and c.template == cluster.template
        ]
        assert not twins, (i, content, cluster.id, twins, cluster.template)


def test_a_weak_subject_and_a_masked_one_open_the_same_event() -> None:
    """``device1:`` keeps its digit (a weak word), ``spine1_v4:`` masks to ``<*>:``: both are
    the component a message is about, filed with the subjects, one cluster."""
    miner = TemplateMiner()
    ids = {
        miner.add(f"{unit}: State changed to up").cluster_id
        for unit in ("device1", "kernel4", "spine1_v4", "spine2_v4")
    }
    assert len(ids) == 1
    assert miner.templates()[0].template == "<*>: State changed to up"


@pytest.mark.parametrize("name", TSV)
def test_no_two_live_clusters_of_a_fixture_share_a_template(name: str) -> None:
    _check(fixture_contents(name))


@pytest.mark.skipif(LOGHUB is None, reason="the shared Loghub data is not here")
@pytest.mark.parametrize("name", SETS)
def test_no_two_live_clusters_of_a_loghub_set_share_a_template(name: str) -> None:
    _check(loghub_contents(name))
