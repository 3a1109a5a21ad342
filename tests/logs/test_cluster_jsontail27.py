"""A compact JSON line's varying text member after the message (branch jsontail27): the text is
one ``<*>`` inside its quotes and the keys and constant values around it stay, where the word
pattern used to collapse every member after the message into one ``<*>`` (``"msg":"unable to
update status"<*>"}``). Zap's JSON encoder (controller-runtime programs: Gatekeeper, Karpenter,
Knative), logrus's JSONFormatter, pino and bunyan write members with no space between them."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._compare import generalise
from vigil.logs._jsonrun import member_pattern
from vigil.logs._texts import SPACE


def _mine(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


_GATEKEEPER = (
    '"msg":"unable to update status","process":"audit","audit_id":"{audit}",'
    '"constraint_name":"{name}","error":"{error}"}}'
)


def test_a_varying_error_text_keeps_the_members_around_it() -> None:
    lines = [
        _GATEKEEPER.format(
            audit="2026-12-01T19:03:00Z",
            name="no-privileged-containers",
            error="Operation cannot be fulfilled on k8spspprivilegedcontainer.constraints"
            '.gatekeeper.sh \\"no-privileged-containers\\": the object has been modified; '
            "please apply your changes to the latest version and try again",
        ),
        _GATEKEEPER.format(
            audit="2026-12-01T19:01:00Z",
            name="gpu-pods-need-limits",
            error="etcdserver: request timed out",
        ),
        _GATEKEEPER.format(
            audit="2026-12-01T19:05:00Z", name="ns-must-have-team", error="context canceled"
        ),
    ]
    miner, ids = _mine(lines)
    assert ids[0] == ids[1] == ids[2]
    assert miner.clusters[ids[0]].template == (
        '"msg":"unable to update status","process":"audit","audit_id":"<*>",'
        '"constraint_name":"<*>","error":"<*>"}'
    )


def test_a_nested_object_and_a_varying_text_in_one_run() -> None:
    line = (
        '"message":"could not schedule pod","commit":"901a5dc","controller":"provisioner",'
        '"Pod":{{"name":"{pod}","namespace":"{ns}"}},"error":"{error}"}}'
    )
    lines = [
        line.format(pod="trainer-9", ns="ml", error='incompatible with nodepool \\"gpu-h100\\"'),
        line.format(
            pod="embedder-5d7c9b8f6-k8p2q",
            ns="search",
            error='all available instance types exceed limits for nodepool: \\"gpu-a100\\"',
        ),
    ]
    miner, ids = _mine(lines)
    assert ids[0] == ids[1]
    template = miner.clusters[ids[0]].template
    assert template.endswith(
        '"controller":"provisioner","Pod":{"name":"<*>","namespace":"<*>"},"error":"<*>"}'
    )


def test_members_that_are_all_constant_are_left_alone() -> None:
    line = (
        '"msg":"readiness satisfied","process":"readiness","phase":"done",'
        '"reason":"no further collection needed"}'
    )
    miner, ids = _mine([line, line])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == line


def test_a_member_holding_a_number_is_not_a_text() -> None:
    a = 'done","audit_id":"a","violations":12}'
    b = 'done","audit_id":"a","violations":7}'
    assert member_pattern(a, b, generalise) is None  # no text of several words: as before


def test_the_message_member_stays_the_events_words() -> None:
    # the message's own text is never joined into a run: two statements stay two templates
    line = '"msg":"{msg}","process":"audit","error":"{error}"}}'
    lines = [
        line.format(msg="unable to update status", error="etcdserver: request timed out"),
        line.format(msg="unable to list constraints", error="context deadline exceeded now"),
    ]
    miner, ids = _mine(lines)
    assert ids[0] != ids[1]
    assert miner.clusters[ids[0]].template.startswith('"msg":"unable to update status"')


def test_runs_with_other_keys_are_not_compared_member_by_member() -> None:
    a = f'x","error":"a{SPACE}b{SPACE}c","code":"1"}}'
    b = f'x","reason":"a{SPACE}d","code":"1"}}'
    assert member_pattern(a, b, generalise) is None
