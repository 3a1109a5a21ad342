"""Lines through a fresh template miner, each line's cluster id as resolved after every merge and
its template: the helper of the grouping tests (``test_cluster_*``)."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def resolved_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Each line's resolved cluster id and that cluster's template, in input order."""
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]
