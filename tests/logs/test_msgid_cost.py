"""What a stream of new request ids of a message id's shape costs the miner (branch idcost24):
each id is masked once, by the word masks of its line; the bucket it is filed under
(:func:`vigil.logs._msgids.filed_as`) reuses that mask instead of masking the id again. Counted,
not timed."""

from __future__ import annotations

import random
import string

import pytest

import vigil.logs._msgids as msgids
from vigil.logs import TemplateMiner

_STATEMENTS = [
    "[{}] GET /api/items took {} ms",
    "[{}] user u{} logged in from 10.0.0.{}",
    "[{}] cache miss for key k{} size {}",
]


def _request_ids(count: int) -> list[str]:
    """``count`` distinct upper-case request ids of a catalogue id's shape, seeded."""
    rng = random.Random(7)
    alphabet = string.ascii_uppercase + string.digits
    out: set[str] = set()
    while len(out) < count:
        rid = rng.choice(string.ascii_uppercase) + "".join(rng.choice(alphabet) for _ in range(7))
        if msgids.catalogue_id(rid):
            out.add(rid)
    return sorted(out)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    words: list[str] = []
    real = msgids.mask

    def counted(word: str) -> str:
        words.append(word)
        return real(word)

    monkeypatch.setattr(msgids, "mask", counted)
    return words


def test_a_new_request_id_is_not_masked_again_for_its_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _request_ids(300)
    rng = random.Random(11)
    lines = [
        rng.choice(_STATEMENTS).format(rid, rng.randint(1, 999), rng.randint(1, 99)) for rid in ids
    ]
    masked_again = _counting(monkeypatch)
    miner = TemplateMiner()
    for line in lines:
        miner.cluster_of(line)
    assert [w for w in masked_again if w.strip("[]") in ids] == []
    # the stream still groups: the id's place is a value in each statement's template
    templates = {c.template for c in miner.clusters.values()}
    assert any(t.startswith("[<*>] GET") for t in templates)


def test_the_filed_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msgids, "FILED_LIMIT", 50)
    miner = TemplateMiner()
    for n, rid in enumerate(_request_ids(400)):
        miner.cluster_of(f"[{rid}] GET /api/items took {n} ms")
    assert 0 < len(msgids._FILED) <= 50
