"""Accounts written ``DOMAIN\\user`` (IIS, Windows services): two accounts of one domain are two
values of one event from the second line on, not two look-alike constants; the streamed id of
the second account's line is then the one its group keeps (``docs/benchmarks.md``, "Ids as
lines arrive")."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import look_alike

from .test_fixtures import score


def test_two_accounts_of_one_domain_do_not_look_alike() -> None:
    assert not look_alike("LAB\\bob", "LAB\\mlops")
    assert look_alike("LAB\\ScreenOn", "LAB\\ScreenOff")  # the part after it still counts


def test_the_second_account_joins_the_first_ones_cluster() -> None:
    miner = TemplateMiner()
    first = miner.add("POST /api/jobs - 443 LAB\\bob 10.0.0.1 curl/8.5.0 - 401")
    second = miner.add("POST /api/jobs - 443 LAB\\mlops 10.0.0.2 curl/8.5.0 - 201")
    assert second.cluster_id == first.cluster_id
    assert "LAB\\<*>" in second.template
    miner = TemplateMiner()
    assert miner.add("Logon of CORP\\alice succeeded on server").cluster_id == (
        miner.add("Logon of CORP\\svc_backup succeeded on server").cluster_id
    )


def test_the_iis_fixture_streams_the_grouping_it_resolves() -> None:
    assert score("holdout5/iis_w3c")[0] == score("holdout5/iis_w3c", hold=0)[0] == 1.0
