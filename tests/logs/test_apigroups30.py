"""A Kubernetes API group is a type name, kept as written, not a host (branch leftovers30).

client-go's errors qualify the resource by its group before the object's quoted name
(``Operation cannot be fulfilled on pytorchjobs.kubeflow.org "x"``: Kubeflow's training
operator, Flyte, Kueue, cert-manager, Volcano), and controller-runtime names every reconciler's
group (``"controllerGroup":"kueue.x-k8s.io"``). The host rule masked both as host names; every
directory's labels keep them."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask
from vigil.logs._wordmasks import WordMasks

_CONFLICT = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def test_client_go_errors_keep_the_qualified_resource() -> None:
    # klog's structured error, the error quoted and its quotes escaped (cert-manager)
    line = (
        'error="Operation cannot be fulfilled on certificates.cert-manager.io \\"vllm-tls\\": '
        f'{_CONFLICT}"'
    )
    assert 'on certificates.cert-manager.io \\"' in TemplateMiner().mask_words(line)
    # zap's JSON (Kueue): the error a JSON string, the group a top-level domain's x-k8s.io
    line = (
        '{"msg":"Reconciler error","error":"Operation cannot be fulfilled on '
        f'workloads.kueue.x-k8s.io \\"job-sdxl-lora-4f81b\\": {_CONFLICT}"}}'
    )
    masked = TemplateMiner().mask_words(line)
    assert 'on workloads.kueue.x-k8s.io \\"<*>\\": the object' in masked
    # Go's plain error text, unquoted (Volcano, Flyte's propeller): word by word
    words = ["on", "flyteworkflows.flyte.lyft.com", '\\"m5t1r8y6b2\\":', "the", "object"]
    assert WordMasks(limit=100).mask_list(words)[0][1] == "flyteworkflows.flyte.lyft.com"
    assert mask('pytorchjobs.kubeflow.org "run-20261202" not found') == (
        'pytorchjobs.kubeflow.org "<*>" not found'
    )


def test_a_group_key_keeps_its_api_group() -> None:
    line = (
        '{"controller":"workload","controllerGroup":"kueue.x-k8s.io","controllerKind":"Workload"}'
    )
    assert '"controllerGroup":"kueue.x-k8s.io"' in TemplateMiner().mask_words(line)
    assert mask("constraint_group=constraints.gatekeeper.io") == (
        "constraint_group=constraints.gatekeeper.io"
    )
    # zap's console encoder puts a space after the colon: the key is the word before
    words = ['{"controller":', '"pytorchjob",', '"controllerGroup":', '"kubeflow.org",']
    assert WordMasks(limit=100).mask_list(words)[0][3] == '"kubeflow.org",'


def test_hosts_and_versions_beside_quotes_stay_values() -> None:
    assert mask("connecting to api.example.com:443") == "connecting to <*>"
    assert mask('host="db1.example.com" err="timeout"') == 'host="<*>" err="timeout"'
    assert mask("resolving mirror.example.org") == "resolving <*>"
    # a version before a quoted code name (Syncthing's banner) is a version, not a group
    words = ["syncthing", "v1.27.12", '"Gold', 'Grasshopper"']
    assert WordMasks(limit=100).mask_list(words)[0][1] == "<*>"
    # a key that names no group, and a host as the value of one before a word, not a quote
    words = ['"upstream":', '"api.example.com",', '"status":', "503"]
    assert WordMasks(limit=100).mask_list(words)[0][1] == '"<*>",'
