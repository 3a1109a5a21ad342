"""A name enclosed in brackets in a message's first two words is a value (branch prefix18):
``[pg-orders|task-0] Couldn't commit ...`` / ``[mysql-users|task-0] ...``, ``Key (id)=(42)`` /
``Key (email)=(a@b.c)``, ``#0 [in_tail_syslog] following tail of ...``, while a name glued to
a bracket (``joined[2]:``, ``DHCPOFFER(br0)``) or a stack frame's method still names the event."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._cluster import _bucket_key
from vigil.logs._enclosed import enclosed_key, enclosed_name, generalise_enclosed
from vigil.logs._state import dumps, loads


def _ids(lines: list[str], miner: TemplateMiner | None = None) -> tuple[TemplateMiner, list[int]]:
    miner = miner or TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_names_between_brackets_differing_alone_are_enclosed_names() -> None:
    assert enclosed_name("(id)=(<*>)", "(email)=(<*>)")
    assert enclosed_name("[pg-orders-source|task-0]", "[mysql-users-source|task-0]")
    assert enclosed_name("<site-b|<*>>", "<site-c|<*>>")
    assert enclosed_name("[in_tail_container_logs]", "[in_tail_syslog]")
    assert enclosed_name("<*>[main]<*>[nginx]<*>:", "<*>[main]<*>[chronyd]<*>:")
    assert generalise_enclosed("(id)=(<*>)", "(email)=(<*>)") == "(<*>)=(<*>)"
    assert generalise_enclosed("[in_tail_syslog]", "[in_tail_container_logs]") == "[<*>]"


def test_names_glued_to_a_bracket_or_in_a_call_are_not_enclosed_names() -> None:
    assert not enclosed_name("joined[<*>]:", "left[<*>]:")  # corosync: the event's name
    assert not enclosed_name("DHCPOFFER(<*>)", "DHCPREQUEST(<*>)")
    assert not enclosed_name("Client.call(Client.java:<*>)", "Client.open(Client.java:<*>)")
    assert not enclosed_name("train-nightly", "build-images")  # no bracket at all
    assert not enclosed_name("[<*>]", "[abc]")  # a mask against a name: not two names
    assert not enclosed_name("[a]", "[a]")
    assert not enclosed_name("[ERROR]", "[NOTICE]")  # a level, written as a constant's name


def test_a_first_word_is_filed_with_its_enclosed_names_written_alike() -> None:
    assert enclosed_key("[pg-orders|task-0]") == "[<>|<>]"
    assert enclosed_key("DHCPOFFER(<*>)") == "DHCPOFFER(<*>)"
    assert enclosed_key("Starting") == "Starting"
    one = _bucket_key(["[a-b|task-0]", "Couldn't", "commit"])
    assert one == _bucket_key(["[c-d|task-0]", "Couldn't", "commit"])
    assert _bucket_key(["Starting", "x", "y"]) != _bucket_key(["Stopping", "x", "y"])


def test_a_connector_name_opening_a_line_is_a_value() -> None:
    tail = "Couldn't commit processed log positions (io.debezium.BaseSourceTask:270)"
    miner, ids = _ids([f"[pg-orders-source|task-0] {tail}", f"[mysql-users-source|task-0] {tail}"])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template.startswith("[<*>|task-0] Couldn't commit")


def test_an_enclosed_name_as_the_second_word_is_a_value() -> None:
    miner, ids = _ids(
        [
            "#0 [in_tail_container_logs] following tail of /var/log/containers/a.log",
            "#0 [in_tail_syslog] following tail of /var/log/syslog",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "#<*> [<*>] following tail of <*>"
    miner, ids = _ids(["Key (id)=(42) already exists.", "Key (email)=(a@b.c) already exists."])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Key (<*>)=(<*>) already exists."


def test_event_names_glued_to_brackets_stay_apart() -> None:
    _, ids = _ids(
        [
            "DHCPOFFER(br0) 10.0.0.2 aa:bb:cc:dd:ee:ff",
            "DHCPREQUEST(br0) 10.0.0.2 aa:bb:cc:dd:ee:ff",
        ]
    )
    assert ids[0] != ids[1]
    _, ids = _ids(
        [
            "at org.apache.hadoop.ipc.Client.call(Client.java:1471)",
            "at org.apache.hadoop.ipc.Client.open(Client.java:712)",
        ]
    )
    assert ids[0] != ids[1]


def test_an_enclosed_name_joins_a_cluster_restored_from_saved_state() -> None:
    tail = "Couldn't commit processed log positions (io.debezium.BaseSourceTask:270)"
    miner, ids = _ids([f"[pg-orders-source|task-0] {tail}"])
    restored = loads(dumps(miner))
    _, again = _ids([f"[mysql-users-source|task-0] {tail}"], restored)
    assert again == ids
