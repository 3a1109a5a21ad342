"""Error texts of several words as one value (branch phrases21): a key's double-quoted text
is one value however many words it holds and however many of them differ, in a JSON object's
member (``"error":"Workflow task not found."``, zap, logrus, Mattermost, Temporal, Nextcloud)
as in logfmt (``error="..."``) and in a bracketed field (TiDB's ``[sql="..."]``); the message's
own key still tells events apart, and a text's label shared by both lines stays in the
template (``error="failed to query data: <*>"``)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import SPACE, inside_one_text, other_text, split_words


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


_ZAP = (
    '"msg":"history client encountered error","service":"frontend","error":"{error}",'
    '"service-error-type":"serviceerror.NotFound","logging-call-at":"metric_client.go:104"}}'
)


def test_a_json_members_error_texts_of_as_many_words_are_one_value() -> None:
    lines = [
        _ZAP.format(error="Workflow task not found."),
        _ZAP.format(error="Workflow execution already completed"),
        _ZAP.format(error="Workflow task not found."),
    ]
    miner, ids = _ids(lines)
    assert ids[0] == ids[1] == ids[2]
    assert '"error":"<*>"' in miner.clusters[ids[0]].template


def test_a_json_members_error_texts_of_other_lengths_are_one_value() -> None:
    line = (
        '"msg":"websocket.NextReader: closing websocket","caller":"platform/web_conn.go:844",'
        '"user_id":"{user}","conn_id":"{conn}","error":"{error}"}}'
    )
    lines = [
        line.format(
            user="8abx4k2mq7", conn="kq7rbt3o5j", error="websocket: close 1001 (going away)"
        ),
        line.format(
            user="r2m8xk5pwq",
            conn="x3hf9c1nd6",
            error="websocket: close 1006 (abnormal closure): unexpected EOF",
        ),
    ]
    _, ids = _ids(lines)
    assert ids[0] == ids[1]


def test_a_bracketed_keys_quoted_text_is_one_value() -> None:
    line = (
        '["CRUCIAL OPERATION"] [conn=2097162] [schemaVersion={v}] [cur_db=orders] '
        '[sql="{sql}"] [user=root@%]'
    )
    lines = [
        line.format(v=412, sql="CREATE INDEX idx_created ON order_items (created_at)"),
        line.format(v=414, sql="ALTER TABLE order_items ADD COLUMN gift_note VARCHAR(255)"),
    ]
    miner, ids = _ids(lines)
    assert ids[0] == ids[1]
    assert '[sql="<*>"]' in miner.clusters[ids[0]].template


def test_the_message_of_a_json_line_still_tells_events_apart() -> None:
    # the text of "msg" / "message" is the event's words, wherever the key stands
    lines = [
        '"msg":"history client encountered error","service":"frontend","shard":"a b"}',
        '"msg":"history client dropped request","service":"frontend","shard":"a b"}',
        '"level":"info","message":"Job started for tenant acme","app":"core"}',
        '"level":"info","message":"Job finished with no errors at all","app":"core"}',
    ]
    _, ids = _ids(lines)
    assert len(set(ids)) == 4
    words = split_words(lines[2])
    assert not any(SPACE in w for w in words)
    journald = '"PRIORITY":"6","MESSAGE":"Started the unit now","UNIT":"a b"}'
    assert split_words(journald)[-1] == 'now","UNIT":"a' + SPACE + 'b"}'  # the key's, not MESSAGE's


def test_a_label_shared_inside_the_text_stays_in_the_template() -> None:
    line = 'level=warn msg="query failed" component=querier error="{error}"'
    lines = [
        line.format(error="failed to query data: i/o timeout"),
        line.format(error="failed to query data: context deadline exceeded"),
    ]
    miner, ids = _ids(lines)
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template.endswith('error="failed to query data: <*>"')


def test_one_word_of_a_text_differing_is_a_value_inside_it() -> None:
    a, b = 'error="Host\ue000is\ue000unreachable"', 'error="Network\ue000is\ue000unreachable"'
    assert other_text(a, b) is None  # word by word, as before: error="<*> is unreachable"
    a = '"error":"Workflow\ue000task\ue000not\ue000found.","x":"y"}'
    b = '"error":"Workflow\ue000execution\ue000already\ue000completed","x":"y"}'
    assert other_text(a, b) == '"error":"<*>","x":"y"}'
    assert inside_one_text(a, b, '"error":"Workflow\ue000')
    # the words after the text differ too: not a difference inside one text
    c = '"error":"Workflow\ue000execution\ue000already\ue000completed","x":"z"}'
    assert not inside_one_text(a, c, '"error":"Workflow\ue000')
    assert other_text(a, c) is None
