"""DNS questions as BIND writes them, ``'name/TYPE/IN'``: two record types asked are two values of
one event from the second line on, as beside ``IN`` (``dns_values``); holdout4's bind log split
its ``REFUSED ... resolving '<*>/NS/IN'`` lines from the ``/A/`` ones until a third type came
11 lines later, and never joined its ``query (cache) '<*>/A/IN' denied`` pair
(``docs/benchmarks.md``, "Ids as lines arrive")."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import dns_triple

from .test_fixtures import score


def test_two_record_types_in_a_bind_question_are_values() -> None:
    assert dns_triple("'<*>/A/IN':", "'<*>/NS/IN':")
    assert not dns_triple("'<*>/A/IN':", "'<*>/FOO/IN':")  # not a record type
    assert not dns_triple("'<*>/A/IN':", "'<*>/NS/IN'")  # other punctuation around it
    assert not dns_triple("'<*>/A/IN':", "'<*>/A/IN':")  # the same type is no difference


def test_the_second_record_type_joins_the_first_ones_cluster() -> None:
    line = "REFUSED unexpected RCODE resolving '{}.example.org/{}/IN': 48.113.166.149#53"
    miner = TemplateMiner()
    first = miner.add(line.format("x", "A"))
    assert miner.add(line.format("old", "NS")).cluster_id == first.cluster_id
    miner = TemplateMiner()
    first = miner.add(line.format("x", "A"))
    assert miner.add(line.format("old", "QQ")).cluster_id != first.cluster_id  # no record type


def test_the_bind_fixture_groups_every_line_streamed_and_resolved() -> None:
    assert score("holdout4/bind")[0] == score("holdout4/bind", hold=0)[0] == 1.0
