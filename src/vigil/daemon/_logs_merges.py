"""Template merges, from a miner to the analyses: which texts a miner changed, and the fold.

Called by the controller's log pipeline (:mod:`vigil.daemon._logs`): :func:`by_text` after each
chunk of lines mined on the controller (pushes, files it follows), which folds each ``(old
text, new text)`` pair :func:`changed_texts` finds; :func:`fold_remaps` for the pairs an agent's
batch reports (``remaps``, see :mod:`vigil.collectors._logedge`; a pair whose new text does not
cover the old one is refused).

A miner widens a cluster's template as lines arrive (``user bob`` -> ``user <*>``) and merges two
clusters into one (the younger id remapped to the older). The analyses are keyed by the
registry's id of a template *text* (agents mine apart, so cluster ids mean nothing across
sources): the pipeline keeps, per miner, the text last counted for each cluster
(:attr:`MinedSource.reported`) and, after a chunk, compares it with the cluster's text now, for
the clusters the chunk touched and, when the miner lost clusters (merged or evicted: its
cluster count fell short of what the chunk created), for every cluster it reported. Cost: a
dict lookup per template of the chunk, nothing per line; the full pass only on a chunk that
merged (rare: merges settle within the first lines of each event).

:func:`fold` hands a pair to :meth:`TemplateRegistry.merge`: a widening keeps its id (the
entry takes the new text: nothing to fold), a merge folds the dead id into the survivor in
every analysis: novelty (known when either was), families (the dead one removed), bursts
(rates added), association and Bayes (counts added), and the precursor marks. The findings
listed by ``GET /api/v1/logs/findings`` that name the dead id name the survivor from then on
(their ``template`` stays the text found then), so each joins a template that
``GET /api/v1/logs/templates`` lists. Incidents already written keep their evidence as it was:
history. No store table is keyed by template id (the registry lives in the pipeline's state
file, saved with its aliases).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vigil.daemon._logs_match import wildcard_match
from vigil.logs import WILDCARD

if TYPE_CHECKING:
    from vigil.daemon._logs import LogPipeline
    from vigil.daemon._logs_state import MinedSource

log = logging.getLogger("vigil.daemon.logs")


def changed_texts(
    mined: MinedSource, touched: Iterable[int], clusters_before: int, next_id_before: int
) -> list[tuple[str, str]]:
    """The ``(old text, new text)`` pairs of the clusters of ``mined``'s miner whose template
    changed since last reported (``touched``: the ids a chunk's lines went to; the miner had
    ``clusters_before`` clusters and ``next_id_before`` as next id before the chunk); updates
    :attr:`MinedSource.reported` to the texts now."""
    miner, reported = mined.miner, mined.reported
    clusters = miner.clusters
    ids = set(touched)
    created = miner.next_id - next_id_before
    if len(clusters) != clusters_before + created:  # merged or evicted: find which
        ids.update(cid for cid in reported if cid not in clusters)
    pairs: list[tuple[str, str]] = []
    for cid in sorted(ids):  # older ids first: a survivor's own widening before its merges
        live = miner.resolve(cid)
        cluster = clusters.get(live)
        if cluster is None:  # evicted: its template stays in the registry until evicted there
            reported.pop(cid, None)
            continue
        text = cluster.template
        if live != cid:
            old = reported.pop(cid, None)
            if old is not None and old != text:
                pairs.append((old, text))
        old = reported.get(live)
        if old != text:
            if old is not None:
                pairs.append((old, text))
            reported[live] = text
    return pairs


def fold(p: LogPipeline, old: str, new: str) -> None:
    """Template ``old`` is now ``new``: the registry and every analysis follow."""
    ids = p.registry.merge(old, new)
    if ids is None:
        return
    dead, survivor = ids
    p.families.add(survivor, new)  # its text changed: re-linked
    if dead == survivor:
        return
    pair = [(dead, survivor)]
    p.novelty.merged(pair)
    p.families.merged(pair)
    p.bursts.merged(pair)
    p.association.merged(pair)
    p.bayes.merged(pair)
    if dead in p._rules_reported:
        p._rules_reported.discard(dead)
        p._rules_reported.add(survivor)
    for record in p.found:  # listed findings name the live id (their text stays as found)
        if record["template_id"] == dead:
            record["template_id"] = survivor
    warned = p._warned.pop(dead, None)
    if warned is not None:
        p._warned[survivor] = max(warned, p._warned.get(survivor, warned))
    p._dirty = True


def by_text(
    p: LogPipeline, mined: MinedSource, lines: dict[int, list[Any]], clusters: int, next_id: int
) -> dict[str, list[Any]]:
    """A chunk's lines by cluster (``id -> [count, example, level, cluster]``) -> by template
    text now (``text -> [count, example, level]``), once the registry and the analyses have
    followed the templates the miner changed: lines mined before a merge count in the
    survivor. ``clusters``, ``next_id``: the miner's before the chunk."""
    for old, new in changed_texts(mined, lines, clusters, next_id):
        fold(p, old, new)
    miner = mined.miner
    chunk: dict[str, list[Any]] = {}
    for cid, (count, example, level, seen) in lines.items():
        # (an evicted cluster, as the lines saw it: counted under its last text)
        template = miner.clusters.get(miner.resolve(cid), seen).template
        have = chunk.get(template)
        if have is None:
            chunk[template] = [count, example, level]
        else:
            have[0] += count
            have[2] = have[2] or level
    return chunk


def fold_remaps(p: LogPipeline, node: str, remaps: Sequence[Mapping[str, str]]) -> int:
    """Fold an agent batch's ``remaps``; the number refused. A miner only ever widens (each
    ``<*>`` of the new text stands for words of the old), so a pair whose new text does not
    cover the old one is no merge of a miner (a broken or hostile sender): folding it would
    join two unrelated templates' counts for good. It is refused, with one log line a batch."""
    refused: list[tuple[str, str]] = []
    for remap in remaps:
        old, new = remap["old"], remap["new"]
        if wildcard_match(new.split(WILDCARD), old):
            fold(p, old, new)
        else:
            refused.append((old, new))
    if refused:
        old, new = refused[0]
        log.warning(
            "node %s: %d template remap(s) refused, the new text not covering the old, e.g. "
            "%.200r -> %.200r (is the agent a vigil agent of this version?)",
            node,
            len(refused),
            old,
            new,
        )
    return len(refused)
