"""A structured value printed inline in a message is one value (branch structured30).

Go's ``%v`` of a map (the NVIDIA device plugin, kubelet), a JSON array of objects (Kueue's
``"assignments"``, a CNI result), a compact JSON dump holding one after the message's words
(Multus) and ``CNI_ARGS``-style ``KEY=value;KEY=value`` strings (every CNI plugin, containerd,
CRI-O): word by word, two lines with other contents were two templates."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import split_words


def _templates(*lines: str) -> list[str]:
    miner = TemplateMiner()
    ids = [miner.add(line).cluster_id for line in lines]
    assert len(set(ids)) == 1, ids
    return [miner.add(lines[0]).template]


def test_a_go_map_is_one_value() -> None:
    assert _templates(
        "Ignoring the following XIDs for health checks: map[13:true 31:true 43:true]",
        "Ignoring the following XIDs for health checks: map[48:true]",
    ) == ["Ignoring the following XIDs for health checks: map[<*>]"]
    # nested, glued to a key, a comma after it
    assert split_words("Adding pod labels=map[app:web tier:map[a:b]], done") == [
        "Adding",
        "pod",
        "labels=map[<*>],",
        "done",
    ]


def test_a_json_array_of_objects_is_one_value() -> None:
    head = '"msg":"Workload admitted","clusterQueue":{"name":"cq"},"assignments":'
    assert _templates(
        head + '[{"name":"main","flavors":{"nvidia.com/gpu":"h100"},"count":2}]}',
        head + '[{"name":"main","flavors":{"nvidia.com/gpu":"a100"},"count":8},{"name":"w"}]}',
    ) == [head + "[<*>]}"]


def test_a_dumped_json_object_holding_records_is_one_value() -> None:
    assert _templates(
        'Add: net1 {"cniVersion":"0.3.1","interfaces":[{"name":"net1"}],"ips":[]}',
        'Add: net1 {"cniVersion":"1.0.0","interfaces":[{"name":"net2"},{"name":"lo"}],"ips":[]}',
    ) == ["Add: net1 {<*>}"]


def test_an_argument_string_of_pairs_is_one_value() -> None:
    # one line: its pairs' keys were kept and its values masked one by one
    miner = TemplateMiner()
    line = 'CNI request Args:"IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=x" Path:""'
    assert miner.add(line).template == 'CNI request Args:"<*>" Path:""'
    assert _templates(
        'CNI request IfName:"eth0" Args:"IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=x"',
        'CNI request IfName:"eth0" Args:"K8S_POD_NAMESPACE=research;K8S_POD_NAME=eval-0"',
    ) == ['CNI request IfName:"<*>" Args:"<*>"']  # the interface a value (_ifnames)


def test_near_misses_stay_as_they_were() -> None:
    kept = (
        # a JSON message itself: its members are the event's
        '{"errors":[{"code":"UNAUTHORIZED","message":"denied"}]}',
        # a flat object after the message: a structured logger's fields (TorchServe)
        'Started restoring models from snapshot {"name":"startup.cfg","modelCount":2}',
        # level tags, a thread, placeholders, an empty map, a glued bitmap index
        "[INFO] [main-thread] {} map[] bitmap[3]",
        # brackets that never close: the tail is kept word by word
        "unclosed map[a:b c:d and more words",
        'unclosed [{"a":1 and more words',
        # pairs with spaces: a message's fields (Nextflow)
        "Creating process 'x': maxForks=1; fair=false; array=0",
        # a Go %+v struct keeps its keys (nsqd, etcd, CockroachDB)
        "peer info {TCPPort:4160 HTTPPort:4161 Version:1.3.0}",
    )
    for text in kept:
        assert split_words(text) == text.split(), text
