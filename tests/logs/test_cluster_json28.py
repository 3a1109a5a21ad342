"""A compact JSON line's members when the template widens (branch json28): each member is a word
of its own, so a key is never a value, a member both lines share stays as printed and an array
that differs is one ``<*>`` whatever its length. Loosening the whole run (every piece with a
digit masked) printed Karpenter's ``"controllerKind":"EC2NodeClass","EC2NodeClass":{...}`` as
``"controllerKind":"<*>","<*>":{...}`` and ``karpenter.k8s.aws`` as ``karpenter.<*>.aws``, and
Temporal's ``"addresses":[...]`` of one and of two members as ``"service":"<*>"<*>:<*>"],``.
Zap's JSON encoder (controller-runtime programs, Temporal), logrus, slog and pino write
members with no space between them."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._compare import generalise
from vigil.logs._jsonrun import run_pattern


def _mine(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


_NODECLASS = (
    '"message":"discovered ssm parameter","commit":"901a5dc","controller":"nodeclass.status",'
    '"controllerGroup":"karpenter.k8s.aws","controllerKind":"EC2NodeClass",'
    '"EC2NodeClass":{{"name":"{name}"}},"namespace":"","name":"{name}","reconcileID":"{rid}"}}'
)


def test_a_key_with_a_digit_and_a_shared_constant_stay_as_printed() -> None:
    lines = [
        _NODECLASS.format(name="gpu", rid="5c1e2f7a-3b9d-4c8e-a1f0-7d2b6e4c9a13"),
        _NODECLASS.format(name="default", rid="9e4a7b2c-1d3f-4e5a-8b6c-0f2e1d3c4b5a"),
        _NODECLASS.format(name="inference", rid="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
    ]
    miner, ids = _mine(lines)
    assert ids[0] == ids[1] == ids[2]
    assert miner.clusters[ids[0]].template == (
        '"message":"discovered ssm parameter","commit":"<*>","controller":"nodeclass.status",'
        '"controllerGroup":"karpenter.k8s.aws","controllerKind":"EC2NodeClass",'
        '"EC2NodeClass":{"name":"<*>"},"namespace":"","name":"<*>","reconcileID":"<*>"}'
    )


_RESOLVER = (
    '"msg":"Current reachable members","component":"service-resolver","service":"{service}",'
    '"addresses":[{addresses}],"logging-call-at":"service_resolver.go:279"}}'
)


def test_an_array_of_one_member_and_of_several_is_one_value() -> None:
    lines = [
        _RESOLVER.format(service="history", addresses='"10.3.0.14:7234"'),
        _RESOLVER.format(service="matching", addresses='"10.3.0.15:7235","10.3.0.17:7235"'),
        _RESOLVER.format(
            service="frontend", addresses='"10.3.0.11:7233","10.3.0.12:7233","10.3.0.13:7233"'
        ),
    ]
    miner, ids = _mine(lines)
    assert ids[0] == ids[1] == ids[2]
    assert miner.clusters[ids[0]].template == (
        '"msg":"Current reachable members","component":"service-resolver","service":"<*>",'
        '"addresses":[<*>],"logging-call-at":"service_resolver.go:<*>"}'
    )


def test_a_constant_array_stays_and_a_varying_value_with_digits_is_masked() -> None:
    line = '"msg":"server running","name":"{name}","zone":"{zone}","protocols":["h1","h2","h3"]}}'
    miner, ids = _mine(
        [
            line.format(name="srv0", zone="us-west-2a"),
            line.format(name="remaining_auto_https_redirects", zone="us-west-2b"),
        ]
    )
    assert ids[0] == ids[1]
    # the array both lines print stays; a value with digits that varies is still a value
    assert miner.clusters[ids[0]].template == (
        '"msg":"server running","name":"<*>","zone":"<*>","protocols":["h1","h2","h3"]}'
    )


def test_runs_with_other_keys_are_left_to_the_word_pattern() -> None:
    a = '","commit":"901a5dc","NodeClaim":{"name":"gpu-a100-7xk2p"}}'
    b = '","commit":"901a5dc","Node":{"name":"ip-10-0-41-17"}}'
    assert run_pattern(a, b, generalise) is None
    assert run_pattern('"only":"one"}', '"only":"two"}', generalise) is None
