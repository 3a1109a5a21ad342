"""The keys of ``Key: value`` lines tell events apart (branch join19): a capitalised name and its
colon (``AppPath:``, ``Start:``, ``Store:``) is the setting or field a line reports, so neither
three keys in one place (the siblings rule) nor a weak value against a key (``resnet18`` /
``Store:``) make one event of them; lower-case names before a colon stay values (``users:`` /
``local:``)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import key_against_value, key_label


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_a_capitalised_name_and_its_colon_is_a_key() -> None:
    assert key_label("AppPath:")
    assert key_label("Start:")
    assert key_label("Store:")
    assert not key_label("users:")  # an instance a program names: a value
    assert not key_label("static_gw:")
    assert not key_label("<*>:")
    assert not key_label("AppPath")
    assert not key_label("Node1:")  # a numbered name: a value's shape
    assert key_against_value("resnet18", "Store:")
    assert key_against_value("Store:", "<*>")
    assert not key_against_value("AppPath:", "WorkPath:")
    assert not key_against_value("node1", "node2")


def test_a_dump_of_settings_keeps_one_template_per_key() -> None:
    # Gitea's start-up banner: three keys or more in one place are still three settings
    lines = [
        "* AppPath: /usr/local/bin/gitea",
        "* WorkPath: /var/lib/gitea",
        "* CustomPath: /var/lib/gitea/custom",
        "* ConfigFile: /etc/gitea/app.ini",
        "* AppPath: /opt/gitea/bin/gitea",
    ]
    miner, ids = _ids(lines)
    assert len(set(ids)) == 4
    assert ids[0] == ids[4]
    assert miner.clusters[ids[2]].template == "* CustomPath: <*>"


def test_varnishlog_timestamps_keep_their_event_names() -> None:
    lines = [
        "-   Timestamp      Start: 1764410401.118204 0.000000 0.000000",
        "-   Timestamp      Req: 1764410401.118204 0.000000 0.000000",
        "-   Timestamp      Resp: 1764410401.118822 0.000618 0.000510",
        "-   Timestamp      Start: 1764410402.551002 0.000000 0.000000",
    ]
    _, ids = _ids(lines)
    assert len(set(ids)) == 3
    assert ids[0] == ids[3]


def test_a_weak_value_does_not_cover_a_key() -> None:
    # TorchServe: a configuration line and a sentence of the same word count
    miner, ids = _ids(
        [
            "Model Store: /home/model-server/model-store",
            "Model resnet18 loaded.",
            "Model bert-ner loaded.",
        ]
    )
    assert ids[0] != ids[1]
    assert ids[1] == ids[2]
    assert miner.clusters[ids[0]].template == "Model Store: <*>"
    assert miner.clusters[ids[1]].template == "Model <*> loaded."


def test_lower_case_names_before_a_colon_are_still_siblings() -> None:
    # Cassandra's table names: three in one place are values (holdout2)
    lines = [
        f"Enqueuing flush of {t}: 14.3MiB (2%) on-heap, 0.000KiB (0%) off-heap"
        for t in ("gpu_util", "local", "requests")
    ]
    miner, ids = _ids(lines)
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template.startswith("Enqueuing flush of <*>: ")


def test_numbered_values_still_cover_each_other() -> None:
    _, ids = _ids(["eth0: Link UP", "bond0: Link UP", "Node node1 joined", "Node node2 joined"])
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
