"""A compound identifier (kebab-case, or ``namespace/name``) of two to four values is a value;
one-word states, look-alike ends of a change and snake_case event names stay constants."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._compound import compound_names


def test_two_scenario_names_in_quotes_are_one_event() -> None:
    m = TemplateMiner()  # CrowdSec: which scenario an address triggered
    one = m.add("Ip 198.51.100.23 performed 'crowdsecurity/ssh-bf' (6 events over 1.98s) at x")
    two = m.add("Ip 203.0.113.9 performed 'crowdsecurity/http-probing' (9 events over 2.1s) at x")
    assert one.cluster_id == two.cluster_id
    assert two.template == "Ip <*> performed '<*>' (<*> events over <*>) at x"


def test_two_option_names_are_one_event() -> None:
    m = TemplateMiner()  # the Cilium agent's sized options: a name of a flag, then its value
    one = m.add("option bpf-nat-global-max set by dynamic sizing to 1180716")
    two = m.add("option bpf-ct-global-tcp-max set by dynamic sizing to 2361432")
    assert one.cluster_id == two.cluster_id
    assert two.template == "option <*> set by dynamic sizing to <*>"


def test_one_word_states_stay_apart() -> None:
    m = TemplateMiner()
    pairs = [
        ("Service web is RUNNING since boot", "Service web is STOPPED since boot"),
    ]
    for a, b in pairs:
        assert m.add(a).cluster_id != m.add(b).cluster_id, (a, b)


def test_compound_names_need_the_same_punctuation_and_a_dash_or_a_slash() -> None:
    assert compound_names("'build-images'", "'deploy-prod'")
    assert compound_names("library/nginx,", "ml/triton-server,")
    assert not compound_names("'build-images'", "deploy-prod")
    assert not compound_names("scrub_start", "resilver_finish")
    assert not compound_names("link-up", "link-down")
    assert not compound_names("'fs-freeze'", "'fs-thaw'")
    assert not compound_names("gpu-01", "gpu-02")


def test_a_qualified_name_is_masked_whole_not_after_its_shared_namespace() -> None:
    m = TemplateMiner()  # CrowdSec's ban line: the scenario bare, its author shared
    m.add("(edge/crowdsec) crowdsecurity/ssh-bf by ip 198.51.100.23 : 4h ban on Ip 198.51.100.23")
    two = m.add(
        "(edge/crowdsec) crowdsecurity/http-probing by ip 203.0.113.5 : 4h ban on Ip 203.0.113.5"
    )
    assert two.template == "(edge/crowdsec) <*> by ip <*> : <*> ban on Ip <*>"


def test_two_media_types_are_one_value() -> None:
    m = TemplateMiner()  # Squid's access log: the reply's content type, a type/subtype pair
    m.add(
        "1701 12 10.0.0.5 TCP_MISS/200 512 GET http://a.example/x - HIER_DIRECT/10.0.0.9 text/html"
    )
    two = m.add(
        "1702 15 10.0.0.6 TCP_MISS/200 733 GET http://b.example/y - HIER_DIRECT/10.0.0.8"
        " application/json"
    )
    assert two.template.endswith("HIER_DIRECT/<*> <*>")
