"""Save and load a :class:`~vigil.logs.TemplateMiner` so that cluster ids survive restarts.

Called by whoever owns a miner's lifetime (the ``vigil logs`` CLI with ``--state``, later the
log collectors). Pure: :func:`miner_to_dict` / :func:`miner_from_dict` work on plain dicts and
:func:`dumps` / :func:`loads` on JSON text; the caller reads and writes the file.

Only clusters, counters, the id remapping and the numbers each glued name came with
(:mod:`vigil.logs._numbered`: evidence from lines long gone) are saved; the caches refill
from the stream.
"""

from __future__ import annotations

import json
from typing import Any

from vigil.errors import InputError
from vigil.logs._cluster import ANY, LITERAL, LOOSE, Cluster
from vigil.logs._miner import TemplateMiner

STATE_VERSION = 1


class StateError(InputError, ValueError):
    """Saved miner state that cannot be loaded (bad JSON, unknown version, missing fields)."""


def miner_to_dict(miner: TemplateMiner) -> dict[str, Any]:
    """A JSON-ready snapshot of ``miner``."""
    return {
        "version": STATE_VERSION,
        "lines": miner.lines,
        "next_id": miner.next_id,
        "max_clusters": miner.max_clusters,
        "max_signatures": miner.max_signatures,
        "remap": [[old, new] for old, new in sorted(miner.remaps().items())],
        "numbered": miner.numbered_names(),
        "clusters": [
            {
                "id": c.id,
                "words": c.words,
                "levels": c.levels,
                "runs": c.runs,
                "count": c.count,
                "first_line": c.first_line,
                "last_line": c.last_line,
                "example": c.example,
                "varied": c.varied,
                "pinned": list(c.pinned),
                "spans": list(c.spans),
            }
            for c in sorted(miner.clusters.values(), key=lambda c: c.id)
        ],
    }


def miner_from_dict(data: dict[str, Any]) -> TemplateMiner:
    """Rebuild a miner saved by :func:`miner_to_dict`; :class:`StateError` names what is wrong."""
    if data.get("version") != STATE_VERSION:
        raise StateError(f"miner state: version {data.get('version')!r} (expected {STATE_VERSION})")
    try:
        miner = TemplateMiner(
            max_clusters=int(data["max_clusters"]), max_signatures=int(data["max_signatures"])
        )
        clusters = [
            Cluster(
                id=int(c["id"]),
                words=[str(w) for w in c["words"]],
                levels=[int(x) for x in c["levels"]],
                runs=[int(x) for x in c["runs"]],
                count=int(c["count"]),
                first_line=int(c["first_line"]),
                last_line=int(c["last_line"]),
                example=str(c["example"]),
                varied=bool(c.get("varied", True)),  # states written before these two fields
                pinned=tuple(int(x) for x in c.get("pinned", ())),
                spans=tuple(int(x) for x in c.get("spans", ())),  # (written since multiword)
            )
            for c in data["clusters"]
        ]
        remap = {int(old): int(new) for old, new in data["remap"]}
        lines, next_id = int(data["lines"]), int(data["next_id"])
        numbered = {  # (written since numbered29; absent from older states)
            str(name): None if number is None else str(number)
            for name, number in dict(data.get("numbered", {})).items()
        }
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # 1e400 is inf: Overflow
        raise StateError(f"miner state: {exc!r}") from exc
    for i, cluster in enumerate(clusters):
        _check_cluster(f"clusters[{i}] (id {cluster.id})", cluster)
    _check_remap(remap)
    miner.restore(clusters, remap, lines=lines, next_id=next_id, numbered=numbered)
    return miner


def _check_cluster(where: str, c: Cluster) -> None:
    """A cluster the miner can compare lines with: one level and one run per word (the
    comparisons zip them strictly), known levels, runs of a word or more, pins on words."""
    n = len(c.words)
    if len(c.levels) != n or len(c.runs) != n:
        raise StateError(
            f"miner state: {where}: {len(c.levels)} levels and {len(c.runs)} runs for {n} words"
        )
    if not set(c.levels) <= {LITERAL, LOOSE, ANY} or min(c.runs, default=1) < 1:
        raise StateError(f"miner state: {where}: levels {c.levels} or runs {c.runs} out of range")
    if any(not 0 <= p < n for p in c.pinned):
        raise StateError(f"miner state: {where}: pinned {list(c.pinned)} past its {n} words")
    if any(not 0 <= p < n for p in c.spans):
        raise StateError(f"miner state: {where}: spans {list(c.spans)} past its {n} words")


def _check_remap(remap: dict[int, int]) -> None:
    """No cycle in the id remapping (:meth:`TemplateMiner.resolve` would follow it forever)."""
    for start in remap:
        seen = {start}
        cid = remap[start]
        while cid in remap:
            if cid in seen:
                raise StateError(f"miner state: remap: a cycle through id {cid}")
            seen.add(cid)
            cid = remap[cid]


def dumps(miner: TemplateMiner) -> str:
    """The miner's state as JSON text."""
    return json.dumps(miner_to_dict(miner), separators=(",", ":"))


def loads(text: str | bytes) -> TemplateMiner:
    """A miner from JSON text written by :func:`dumps` (bytes: UTF-8, as read from a file)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError(f"miner state: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise StateError("miner state: not a JSON object")
    return miner_from_dict(data)
