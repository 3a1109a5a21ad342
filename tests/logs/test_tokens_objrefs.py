"""A Kubernetes pod's ``namespace/name``, with or without its port, is one value (1 Dec, pods24).

Cilium's Hubble prints each end of a flow as ``namespace/pod:port``
(``inference/gateway-5f7d9c8b6-x2k4p:51234``); the word masks cut it into
``inference/<*>:<*>`` or ``storage/minio-2:<*>``, so one flow statement was several templates
(holdout23's labels write the pod with its port as one ``<*>``, as a host name with its port).
kubelet, kube-scheduler, Calico, Istio, Argo CD and Karpenter print the same reference; a bare
one without a port is a pod only when its name ends as Kubernetes generates it (an ordinal or a
random suffix). The near misses (a path of three parts, a word pair, a model's name, a key's
value, a URL's path) stay as they were."""

from __future__ import annotations

from vigil.logs._objrefs import mask_object_refs
from vigil.logs._tokens import mask


def test_a_pod_with_its_port_is_one_value() -> None:
    assert mask("flow inference/vllm-llama-0:8000 (ID:48213) ok") == "flow <*> (ID:<*>) ok"
    assert mask("flow kube-system/coredns-5d78c9869d-8x7kq:53 up") == "flow <*> up"
    assert mask("monitoring/prometheus-k8s-0:39114 -> storage/minio-2:9000") == "<*> -> <*>"


def test_a_generated_pod_name_without_a_port_is_one_value() -> None:
    assert mask("evicting pod default/nginx-7d4f8b6c9-x2x4z now") == "evicting pod <*> now"
    assert mask("scaled storage/minio-2 up") == "scaled <*> up"
    assert mask("deleted kube-system/kube-proxy-8zq2w.") == "deleted <*>."


def test_paths_word_pairs_and_names_stay_words() -> None:
    # the rule itself leaves them (mask_relative_paths, not this rule, masks api/v1/pods)
    for text in ("GET api/v1/pods", "a/b", "x/web-0/y", "/var/log/pods/web-0", "./run/web-0"):
        assert mask_object_refs(text) == text
    assert mask("pair a/b c/d ok") == "pair a/b c/d ok"
    assert mask("mode=read/write set") == "mode=read/write set"
    assert mask("ns kube-system/coredns ok") == "ns kube-system/coredns ok"
    assert mask("release kube-system/cert-manager ok") == "release kube-system/cert-manager ok"
    # a model's name: "1" is not in the pod suffix alphabet; capitals and dots are no label
    # (the rule of vigil.logs._models keeps it whole since models27)
    for model in ("facebook/opt-125m", "meta-llama/Llama-3.1-8B-Instruct"):
        assert mask_object_refs(model) == model
    # a dated name (more than five digits) is masked by the named-value rule as before
    assert mask("backup=velero/daily-20261129100001 done") == "backup=<*> done"
    assert mask_object_refs("velero/daily-20261129100001") == "velero/daily-20261129100001"
    # a URL's path is the URL's
    assert mask("GET http://h.svc:80/ns/pod-1:80 ok") == "GET http://<*> ok"
    assert mask_object_refs("h.svc/ns/pod-1:80") == "h.svc/ns/pod-1:80"
