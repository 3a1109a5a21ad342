"""A Kubernetes object reference in angle brackets is one value too (holdout26): Volcano's
scheduler (as kube-batch before it) prints every task, job and queue as ``<namespace/name>``
(``Binding Task <team-a/llama-ft-worker-0> to node <gpu-node-07>``); the bracket left the
reference to the word masks, which kept its namespace (``<team-a/<*>>``), one template per
namespace. The near misses of :mod:`vigil.logs._objrefs` stay as they were."""

from __future__ import annotations

from vigil.logs._objrefs import mask_object_refs


def test_a_pod_reference_in_angle_brackets_is_one_value() -> None:
    text = "Binding Task <team-a/llama-ft-7c9d2-worker-0> to node <gpu-node-07>"
    assert mask_object_refs(text) == "Binding Task <<*>> to node <gpu-node-07>"
    text = "Predicates failed for task <research/eval-0> on node <gpu-node-03>: x"
    assert mask_object_refs(text) == "Predicates failed for task <<*>> on node <gpu-node-03>: x"


def test_a_wildcard_or_a_word_before_the_reference_still_keeps_it() -> None:
    for text in (
        "<*>/web-0",
        "x<team-a/web-0>",
        "<team-a/web-0/x>",
        "<a/b>",
        "<kube-system/coredns>",
    ):
        assert mask_object_refs(text) == text
