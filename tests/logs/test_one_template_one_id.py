"""One template, one id: a line's cluster never shows the template of another live cluster.

Two ids for one template split a count in two and make a consumer see two events where the
miner prints one. Checked as a property after every line of every fixture and of the six
Loghub sets, and on the case that broke it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.logs import LineSplitter, LogFormat, TemplateMiner

_HERE = Path(__file__).resolve().parent
FIXTURES = _HERE / "fixtures"
LOGHUB = next(
    (
        p
        for p in (_HERE.parents[1].parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)
TSV = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.tsv"))
SETS = sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()) if LOGHUB is not None else []


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
    rows = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    fmt = LogFormat()
    _check([fmt.split(row.split("\t", 1)[1]).content for row in rows if "\t" in row])


@pytest.mark.skipif(LOGHUB is None, reason="the shared Loghub data is not here")
@pytest.mark.parametrize("name", SETS)
def test_no_two_live_clusters_of_a_loghub_set_share_a_template(name: str) -> None:
    assert LOGHUB is not None
    (path,) = (LOGHUB / name).glob("*_2k.log")
    splitter, fmt = LineSplitter(), LogFormat()
    lines = [*splitter.feed(path.read_bytes()), *splitter.close()]
    _check([fmt.split(line).content for line in lines])
