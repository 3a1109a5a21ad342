"""Option dumps (branch options32): a daemon printing its command-line options one a line
(``FLAG: --name="value"``, ``--name='value'``) prints one statement whose option name is a
value as much as the option's setting (:mod:`vigil.logs._options`); an option whose name does
not change, or a word that is not an option, keeps its lines as before."""

from __future__ import annotations

import pytest

from vigil.logs import TemplateMiner
from vigil.logs._options import option_dashes, option_pair, option_pattern


def _templates(lines: list[str]) -> list[str]:
    miner = TemplateMiner()
    ids = [miner.add(line).cluster_id for line in lines]
    return [miner.clusters[miner.resolve(i)].template for i in ids]


@pytest.mark.parametrize(
    ("lines", "template"),
    [
        (  # kubelet / istiod through pflag: the name varies, a value masked in some
            [
                'FLAG: --clusterID="Kubernetes"',
                'FLAG: --domain="cluster.local"',
                'FLAG: --grpcAddr=":15010"',
                'FLAG: --keepaliveMaxServerConnectionAge="30m0s"',
                'FLAG: --log_output_level="default:info"',
            ],
            'FLAG: --<*>="<*>"',
        ),
        (  # Cilium's agent: single quotes, two options sharing their value ('true')
            [
                "msg=\"  --agent-health-port='9879'\" subsys=daemon",
                "msg=\"  --enable-wireguard='true'\" subsys=daemon",
                "msg=\"  --kube-proxy-replacement='true'\" subsys=daemon",
                "msg=\"  --tunnel-protocol='vxlan'\" subsys=daemon",
            ],
            "msg=\" --<*>='<*>'\" subsys=daemon",
        ),
        (  # Go's flag package: one dash
            [
                'Flag: -retentionPeriod="90d"',
                'Flag: -storageDataPath="/victoria-metrics-data"',
                'Flag: -promscrape.config="/etc/vm/scrape.yml"',
            ],
            'Flag: -<*>="<*>"',
        ),
    ],
)
def test_options_of_one_dump_are_one_statement(lines: list[str], template: str) -> None:
    assert set(_templates(lines)) == {template}


def test_an_option_whose_name_stays_keeps_its_name() -> None:
    """The same option in a sentence, its value changing: the name is the sentence's."""
    lines = [
        "removing 3 parts older than -retentionPeriod=90d from disk",
        "removing 5 parts older than -retentionPeriod=30d from disk",
    ]
    assert set(_templates(lines)) == {
        "removing <*> parts older than -retentionPeriod=<*> from disk"
    }


def test_words_that_are_not_options_of_one_dump_stay_apart() -> None:
    """Different dashes, a key without dashes, or no ``=``: not two options of one dump."""
    assert not option_pair("--port=80", "-port=81")
    assert not option_pair("user=root", "group=wheel")
    assert not option_pair("--verbose", "--quiet")
    assert not option_pair("--port=80", "--port=81")  # one name: its key= rules apply
    assert option_pair('--domain="<*>"', '--grpcAddr=":<*>"')
    # plain words after a label stay separate statements when they are not options
    assert len(set(_templates(["Mode: --verbose enabled", "Mode: --quiet enabled"]))) == 2


def test_the_pattern_keeps_dashes_equals_and_quotes() -> None:
    assert option_pattern('--clusterID="Kubernetes"', '--domain="<*>"') == '--<*>="<*>"'
    assert option_pattern("--a='true'\"", "--b='true'\"") == "--<*>='<*>'\""
    assert option_pattern('-x=""', '-y=""') == '-<*>=""'
    assert option_pattern("--<*>=<*>", "--mode=fast") == "--<*>=<*>"


def test_a_dump_of_options_alone_on_their_lines_is_one_statement() -> None:
    """Go's ``flag`` package, one option and nothing else a line: filed under its dashes."""
    lines = [
        '-retentionPeriod="90d"',
        '-storageDataPath="/victoria-metrics-data"',
        '-promscrape.config="/etc/vm/scrape.yml"',
    ]
    assert _templates(lines)[1:] == ['-<*>="<*>"', '-<*>="<*>"']


def test_lines_opened_by_a_dash_that_is_no_option_keep_their_first_word() -> None:
    """A list item (``- kv 0: ...``) or an Objective-C method (``-[Class sel:]``) is no option:
    their lines are filed and compared as before."""
    assert option_dashes("-") == ""
    assert option_dashes("-[SessionAgentNotificationCenter") == ""
    assert option_dashes("--") == ""
    assert option_dashes('--domain="<*>"') == "--"
    lines = ["- kv 0: general.architecture", "- kv 1: general.name"]
    assert len(set(_templates(lines))) == 1
    assert len(set(_templates(["-[A run:] | Sending", "-[B stop:] | Sending"]))) == 2
