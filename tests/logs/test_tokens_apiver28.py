"""A Kubernetes API group with its version after the slash is a constant (branch apiver28).

``APIVersion:"longhorn.io/v1beta2"`` was masked to ``longhorn.io/<*>``: the rule for a word with
two numbered parts (``R25-M1-N2``) took ``v1beta2`` for a value, while ``kubeflow.org/v1`` (one
number) was kept. An ``apiVersion`` is a custom resource's group and version, the same on every
line of an object's kind: client-go's event recorder prints it in each ``ObjectReference``
(Longhorn, every controller with events), controller-runtime programs and operators (Kubeflow's
training operator, cert-manager, Argo, Velero) in their JSON logs, and holdout18's Longhorn
labels keep it. A version in a path or a URL stays the path's (``/v1beta2/...``)."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_an_api_group_and_its_version_stay_as_printed() -> None:
    assert mask('APIVersion:"longhorn.io/v1beta2",') == 'APIVersion:"longhorn.io/v1beta2",'
    assert mask('Kind:"Volume", APIVersion:\\"longhorn.io/v1beta2\\", ResourceVersion:"4417"') == (
        'Kind:"Volume", APIVersion:\\"longhorn.io/v1beta2\\", ResourceVersion:"<*>"'
    )
    assert mask('"apiVersion":"snapshot.storage.k8s.io/v1alpha1"}') == (
        '"apiVersion":"snapshot.storage.k8s.io/v1alpha1"}'
    )
    assert mask('"apiVersion":"kubeflow.org/v1"') == '"apiVersion":"kubeflow.org/v1"'


def test_a_version_in_a_path_or_alone_is_still_masked() -> None:
    assert mask("GET /v1beta2/models/m") == "GET <*>"
    assert mask("fetch https://longhorn.io/v1beta2/volumes") == "fetch https://<*>"
    assert mask("watch /apis/longhorn.io/v1beta2 closed") == "watch <*> closed"
    assert mask("longhorn.io/v1beta2/volumes") == "<*>/<*>/volumes"
    assert mask("board R25-M1-N2 down") == "board <*> down"
