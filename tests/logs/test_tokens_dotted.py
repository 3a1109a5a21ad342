"""A dotted word that holds a masked part and name parts is one value (branch unseen17).

``node017.cluster`` (a host), ``naa.600508b1...`` (an ESXi device id), ``27.0.0.Final`` and
``go1.21.5`` (versions): the labels of holdout11, holdout14, holdout16 and holdout6 write one
``<*>``. A name and a bare number (Ceph's ``osd.12``, BGL's ``core.2275``, systemd's
``session-4123.scope``) keeps its name, as the labels keep it.
"""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("execd on node017.cluster registered", "execd on <*> registered"),
        ('to dev "naa.600508b1001c3a1d5e9e8f7c6b5a4d3e" failed', 'to dev "<*>" failed'),
        ("WildFly Full 27.0.0.Final (x)", "WildFly Full <*> (x)"),
        ("Job: nightly-web01.2026-11-29_02.00.01_33", "Job: <*>"),
    ],
)
def test_a_dotted_word_with_a_masked_part_is_one_value(line: str, masked: str) -> None:
    assert mask(line) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("osd.12 heartbeat_check", "osd.<*> heartbeat_check"),
        ("core.2275 x", "core.<*> x"),
        ("session-4123.scope: Deactivated", "<*>.scope: Deactivated"),
    ],
)
def test_a_name_and_a_number_keep_the_name(line: str, masked: str) -> None:
    assert mask(line) == masked


def test_a_host_seen_once_is_a_value_in_its_template() -> None:
    miner = TemplateMiner()
    assert miner.cluster_of("execd on node017.cluster registered").template == (
        "execd on <*> registered"
    )
