"""A compact JSON run whose first key is glued to a differing message value keeps its constant
members when the template widens (branch apiver28).

Zap's JSON encoder writes ``"msg":"Created pod: w-0","type":"Normal","object":{...}``: the
message's last value and every member after it are one word to the miner. When that value
differed (``<*>`` against ``resnet-hvd-worker-0``), the heads before the first key differed and
the member-by-member pattern (:func:`vigil.logs._jsonrun.run_pattern`) gave up: the whole word
was loosened and ``"apiVersion":"kubeflow.org/v1"``, the same on every line, became
``kubeflow.org/<*>``. controller-runtime's event recorder prints this object on every event of
every operator (Kubeflow's training operator, cert-manager, Karpenter, Argo)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._compare import generalise
from vigil.logs._jsonrun import run_pattern

_EVENT = (
    '{{"level":"info","ts":"{ts}","logger":"events","msg":"Deleted pod: {pod}","type":"Normal",'
    '"object":{{"kind":"{kind}","namespace":"{ns}","name":"{job}","uid":"{uid}",'
    '"apiVersion":"kubeflow.org/v1","resourceVersion":"{rv}"}},"reason":"SuccessfulDeletePod"}}'
)


def test_a_constant_member_after_a_differing_head_stays_as_printed() -> None:
    lines = [
        _EVENT.format(
            ts="2026-11-29T10:00:01Z",
            pod="resnet-hvd-worker-0",
            kind="MPIJob",
            ns="team-b",
            job="resnet-hvd",
            uid="3c0e9a1f-7d2b-4e85-a6f3-91b0c4d7e258",
            rv="88123",
        ),
        _EVENT.format(
            ts="2026-11-29T10:02:44Z",
            pod="llama-ft-7b-master-0",
            kind="PyTorchJob",
            ns="team-a",
            job="llama-ft-7b",
            uid="e81f4b27-0a9c-4d36-8e1b-5f2c7a90d413",
            rv="88410",
        ),
        _EVENT.format(
            ts="2026-11-29T10:03:15Z",
            pod="bert-tf-ps-1",
            kind="TFJob",
            ns="nlp",
            job="bert-tf",
            uid="9e4a7b2c-1d3f-4e5a-8b6c-0f2e1d3c4b5a",
            rv="88502",
        ),
    ]
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    assert ids[0] == ids[1] == ids[2]
    template = miner.clusters[ids[0]].template
    assert '"apiVersion":"kubeflow.org/v1"' in template
    assert '"type":"Normal"' in template and '"reason":"SuccessfulDeletePod"}' in template


def test_differing_heads_are_generalised_and_the_keys_must_still_agree() -> None:
    a = 'w-0","type":"Normal","api":"kubeflow.org/v1"}'
    b = '<*>","type":"Normal","api":"kubeflow.org/v1"}'
    assert run_pattern(a, b, generalise) == '<*>","type":"Normal","api":"kubeflow.org/v1"}'
    assert run_pattern(a, '<*>","kind":"Normal","api":"kubeflow.org/v1"}', generalise) is None
