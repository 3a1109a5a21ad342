"""A key's word value kept over a burst of one repeated message is a constant of the event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vigil.logs import TemplateMiner, dumps, loads
from vigil.logs._cluster import MIN_SETTLED_LINES
from vigil.logs._miner import MAX_SETTLED_EVENTS

FAILURE = "authentication failure; uid=0 tty=ssh rhost={host} user={user}"


def _burst(m: TemplateMiner, user: str, host: str = "10.0.0.1", n: int = MIN_SETTLED_LINES) -> int:
    ids = {m.add(FAILURE.format(host=host, user=user)).cluster_id for _ in range(n)}
    assert len(ids) == 1
    return ids.pop()


def test_a_second_word_after_a_burst_of_one_message_is_another_event() -> None:
    m = TemplateMiner()
    root = _burst(m, "root")
    guest = m.add(FAILURE.format(host="10.0.0.2", user="guest"))
    assert guest.cluster_id != root
    assert guest.template == "authentication failure; uid=<*> tty=ssh rhost=<*> user=guest"
    # the decision is kept: the first event's word stays, even after its message varied
    again = m.add(FAILURE.format(host="host-a.example.com", user="root"))
    assert again.cluster_id == root
    assert again.template == "authentication failure; uid=<*> tty=ssh rhost=<*> user=root"
    assert m.add(FAILURE.format(host="10.9.9.9", user="guest")).cluster_id == guest.cluster_id
    # a third word is a third event, not the value that merges the first two
    test = m.add(FAILURE.format(host="10.0.0.3", user="test"))
    assert len({root, guest.cluster_id, test.cluster_id}) == 3
    assert not test.remapped
    assert m.resolve(guest.cluster_id) == guest.cluster_id


def test_a_second_word_after_the_message_varied_is_a_value() -> None:
    m = TemplateMiner()
    root = _burst(m, "root", "10.0.0.1", MIN_SETTLED_LINES // 2)
    _burst(m, "root", "host-b.example.net", MIN_SETTLED_LINES // 2)  # another line shape
    uucp = m.add(FAILURE.format(host="10.0.0.2", user="uucp"))
    assert uucp.cluster_id == root
    assert uucp.template == "authentication failure; uid=<*> tty=ssh rhost=<*> user=<*>"
    assert m.add(FAILURE.format(host="10.0.0.3", user="ftp")).cluster_id == root


def test_a_second_word_after_a_short_burst_is_a_value() -> None:
    m = TemplateMiner()
    root = _burst(m, "root", n=MIN_SETTLED_LINES - 1)
    assert m.add(FAILURE.format(host="10.0.0.2", user="bob")).cluster_id == root


def test_a_value_with_a_digit_or_masked_is_a_variable_whatever_its_count() -> None:
    m = TemplateMiner()
    line = "job finished; status=ok worker=node{n} took {t} ms"
    first = {m.add(line.format(n=1, t=5)).cluster_id for _ in range(MIN_SETTLED_LINES)}
    assert m.add(line.format(n=2, t=7)).cluster_id in first
    plain = "request done; code={c} path=/a/b"
    ids = {m.add(plain.format(c=200)).cluster_id for _ in range(MIN_SETTLED_LINES)}
    assert m.add(plain.format(c=404)).cluster_id in ids


def test_one_word_more_than_the_settled_events_makes_the_key_a_value() -> None:
    m = TemplateMiner()
    root = _burst(m, "root")
    words = ["guest", "test", "admin", "alice", "bob"][: MAX_SETTLED_EVENTS - 1]
    ids = [root] + [m.add(FAILURE.format(host="10.0.0.2", user=w)).cluster_id for w in words]
    assert len(set(ids)) == MAX_SETTLED_EVENTS
    fifth = m.add(FAILURE.format(host="10.0.0.3", user="carol"))
    assert fifth.cluster_id == root
    assert fifth.template == "authentication failure; uid=<*> tty=ssh rhost=<*> user=<*>"
    assert {old for old, _ in fifth.remapped} == set(ids[1:])
    assert all(m.resolve(i) == root for i in ids)
    assert m.add(FAILURE.format(host="10.0.0.4", user="dave")).cluster_id == root
    assert m.add(FAILURE.format(host="10.0.0.4", user="guest")).cluster_id == root


def test_pinned_positions_survive_a_restart() -> None:
    m = TemplateMiner()
    root = _burst(m, "root")
    guest = m.add(FAILURE.format(host="10.0.0.2", user="guest")).cluster_id
    back = loads(dumps(m))
    test = back.add(FAILURE.format(host="10.0.0.3", user="test")).cluster_id
    assert test not in (root, guest)
    assert back.add(FAILURE.format(host="10.0.0.4", user="guest")).cluster_id == guest


def test_the_cli_keeps_a_settled_key_across_runs_with_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    cmd = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]
    head = "Jun 15 02:04:59 combo sshd(pam_unix)[{pid}]: "
    burst = [
        head.format(pid=20882 + i) + FAILURE.format(host="h.example.net", user="root")
        for i in range(MIN_SETTLED_LINES + 2)
    ]
    first = [*burst, head.format(pid=30565) + FAILURE.format(host="10.0.0.2", user="guest")]
    second = [
        head.format(pid=30600) + FAILURE.format(host="10.0.0.3", user="test"),
        head.format(pid=30601) + FAILURE.format(host="10.0.0.4", user="root"),
    ]

    def run(lines: list[str]) -> list[dict[str, object]]:
        text = "\n".join(lines) + "\n"
        out = subprocess.run(
            [*cmd, "--state", str(state)], input=text.encode(), capture_output=True, check=True
        )
        return [json.loads(row) for row in out.stdout.decode().splitlines()]

    one = run(first)
    assert len({row["cluster"] for row in one}) == 2
    two = run(second)  # a new process, the miner loaded from the state file
    assert two[1]["cluster"] == one[0]["cluster"]
    assert two[0]["cluster"] not in (one[0]["cluster"], one[-1]["cluster"])
    assert str(two[0]["template"]).endswith("user=test")


def test_the_settled_events_stay_bounded_when_a_weak_value_varies_with_the_key() -> None:
    """Bursts of one message, each with another host name (a weak value: its digits kept) and
    another word under ``user=``: the key's fifth word makes it a value, as when the host
    is the same; not one template per user (one per burst, to ``max_clusters``)."""
    m = TemplateMiner()
    line = "login failed rhost=host{n} user={user} tty=ssh"
    users = ["root", "guest", "test", "admin", "alice", "bob", "carol", "dave", "erin", "frank"]
    for n, user in enumerate(users, 1):
        for _ in range(MIN_SETTLED_LINES + 1):
            m.add(line.format(n=n, user=user))
    assert len(m.clusters) == 1, [c.template for c in m.templates()]
    assert m.templates()[0].template == "login failed rhost=<*> user=<*> tty=ssh"
