"""A Kubernetes object reference, ``namespace/name`` with or without a port: one value.

Called by :func:`vigil.logs._tokens.mask` on every line that holds a slash, before the word
masks of :data:`vigil.logs._tokens._STRONG` (which mask the generated part of the name and the
port apart and keep the namespace and the name's stem: ``inference/<*>:<*>``,
``storage/minio-2:<*>``). Pure string rewriting.

Kubernetes names a namespaced object ``namespace/name`` (``cache.MetaNamespaceKeyFunc``,
``klog.KObj``): kubelet, kube-scheduler and the controller-manager print it
(``pod="default/nginx-7c5b8d6f4-x2k9p"``), and so do Cilium's Hubble (``inference/vllm-0:8000``,
a pod with the port of a flow), Calico's Felix (``WorkloadId:"ml-train/worker-3"``), Istio's
proxies, Argo CD, Karpenter and Velero. A pod with its port is one value, as a host name with its
port is (holdout23's labels for Hubble's flows; the Loghub convention of Proxifier and Hadoop);
the keyed and quoted forms were already one value by the named-value rule
(:data:`vigil.logs._tokens._NAMED_VALUE`), so a bare reference is masked the same here.

The shape is narrowed to what cannot be a path, a ratio of words or a model's name:

- both parts are DNS labels in lower case (a namespace of letters, digits and hyphens, a name
  that starts with a letter and holds a hyphen), and the word is exactly two parts: not a path
  of three (``api/v1/pods``), not a rooted or relative path (``/var/log/x-1``, ``./x-1``), not
  glued to a dot, a colon, an ``@`` or a word before it (inside a URL, a host's path or an image);
  an angle bracket may open it (Volcano's and kube-batch's ``<namespace/name>``, holdout26);
- **with a port** (``ns/pod-name:8080``), the name holds a digit: a generated or indexed pod;
- **without a port**, the name ends with what Kubernetes generates for a pod: a StatefulSet's
  ordinal (``-0``, ``-12``) or a random suffix of five characters from its alphabet, which has
  no vowels and no ``0``, ``1``, ``3`` (``utilrand.String``: ``-x2k9p``, after a ReplicaSet's
  hash ``-7c5b8d6f4``), holding a digit. Not a word pair with no digit (``read/write``,
  ``kube-system/coredns``), not a model's name (``facebook/opt-125m``: ``1`` is not in the
  alphabet; ``meta-llama/Llama-3.1-8B``: capitals and dots), not a dated name
  (``velero/daily-20261129100001``, an ordinal of more than five digits).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_LABEL = r"[a-z](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_NAME = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+"
_SUFFIX = r"[bcdfghjklmnpqrstvwxz2456789]"
_OBJECT_REF = re.compile(
    # an angle bracket may open it (Volcano's "<ns/name>"), a word glued to the bracket not
    rf"(?<![\w./:@%~$*>\-])(?<!\w<){_LABEL}/"
    # with a port: a name that holds a digit
    rf"(?:(?=[a-z0-9\-]*\d[a-z0-9\-]*:\d){_NAME}:\d{{1,5}}(?![\w:/\-]|\.\w)"
    # without a port: a name that ends with an ordinal or a random suffix holding a digit
    rf"|[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:\d{{1,5}}|(?=(?:{_SUFFIX}){{0,4}}\d)(?:{_SUFFIX}){{5}})"
    r"(?![\w:/\-]|\.\w))"
)
_HINT = re.compile(r"[a-z0-9]/[a-z]")


def mask_object_refs(content: str) -> str:
    """``content`` with each Kubernetes object reference of a pod (``ns/pod-7d4f-x2k4p:8080``,
    ``ns/web-0``) replaced by ``<*>``. Callers test for ``/`` first."""
    if _HINT.search(content) is None:
        return content
    return _OBJECT_REF.sub(WILDCARD, content)
