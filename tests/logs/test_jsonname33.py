"""JSON lines with no message key (branch jsonkey33): the first member whose value is a
lower-case identifier (``"key": "cache_clear"``, ``"type": "file_status"``) starts the
message, and the miner files the line under that key and value together, so two names are
two events. Lines with a message key, and objects with no name-shaped value, are left as
they were."""

from __future__ import annotations

from vigil.logs import LogFormat, TemplateMiner
from vigil.logs._jsonname import named_head, statement_key
from vigil.logs._marks import SPACE

_MLLOG = (
    ':::MLLOG {{"namespace": "", "time_ms": {t}, "event_type": "{kind}", "key": "{key}", '
    '"value": {value}, "metadata": {{"file": "/workspace/train.py", "lineno": {n}}}}}'
)


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    fmt, miner = LogFormat(), TemplateMiner()
    ids = [miner.cluster_of(fmt.split(line).content).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_the_named_member_starts_the_message_after_a_one_word_prefix() -> None:
    line = _MLLOG.format(t=17961990, kind="POINT_IN_TIME", key="cache_clear", value="true", n=1)
    split = LogFormat().split(line)
    assert split.content.startswith('"key": "cache_clear", "value": true')
    assert split.prefix.startswith(':::MLLOG {"namespace": "", "time_ms": <*>')


def test_events_of_other_names_are_other_clusters_and_one_name_is_one() -> None:
    lines = [
        _MLLOG.format(t=1000 + i, kind="POINT_IN_TIME", key=key, value=value, n=170 + i)
        for i, (key, value) in enumerate(
            [
                ("cache_clear", "true"),
                ("init_start", "null"),
                ("seed", "17306"),
                ("global_batch_size", "8"),
                ("train_loss", "1.482"),
                ("train_loss", "1.377"),
                ("eval_accuracy", "0.912"),
                ("train_loss", "1.301"),
            ]
        )
    ]
    miner, ids = _ids(lines)
    assert ids[4] == ids[5] == ids[7]
    assert len(set(ids)) == 6
    assert miner.clusters[ids[4]].template.startswith('"key": "train_loss", "value": <*>')


def test_a_whole_json_line_is_cut_at_its_named_member() -> None:
    split = LogFormat().split('{"type": "file_status", "status": "A", "path": "/srv/a.pt"}')
    assert split.prefix == "{"
    assert split.content == '"type": "file_status", "status": "A", "path": "/srv/a.pt"}'


def test_a_line_with_a_message_key_is_not_changed() -> None:
    line = '{"type": "log_message", "time": 1764.5, "message": "Archive name: x", "name": "borg"}'
    assert LogFormat().split(line).content.startswith('"message": "Archive name: x"')
    prefixed = '2026-12-02T10:00:00Z {"level":"info","msg":"started","op":"sync_start"}'
    assert not LogFormat().split(prefixed).content.startswith('"op"')
    assert statement_key({"op": "sync_start", "msg": "started"}) is None


def test_values_that_are_not_names_do_not_name_the_statement() -> None:
    # a level, a host with digits, a capitalised kind, a path, a controller's type name
    obj: dict[str, object] = {
        "level": "info",
        "host": "gpu-node-07",
        "event_type": "POINT_IN_TIME",
        "path": "/srv/a",
        "controller": "ServiceReconciler",
        "n": 3,
    }
    assert statement_key(obj) is None
    line = '{"caller":"a.go:60","controller":"ServiceReconciler","level":"info","start x":"a/b"}'
    assert LogFormat().split(line).content == line


def test_named_head_joins_only_a_key_and_a_name_shaped_value() -> None:
    assert named_head(['"key":', '"cache_clear",', '"value":', "1"]) == [
        '"key":' + SPACE + '"cache_clear",',
        '"value":',
        "1",
    ]
    # the message's own member, a level, a value with digits, a text: left as they are
    for words in (
        ['"msg":', '"done",', "x"],
        ['"level":', '"info",', "x"],
        ['"host":', '"node07",', "x"],
        ['"error":', '"failed', "to"],
        ["Starting", '"cache_clear",'],
    ):
        assert named_head(words) == words
