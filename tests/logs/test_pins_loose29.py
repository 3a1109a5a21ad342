"""A pinned key's family counts a cluster whose widened word keeps a digit in its key name."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._cluster import MIN_SETTLED_LINES
from vigil.logs._miner import MAX_SETTLED_EVENTS

# auditd's EXECVE record: the arguments under keys named with a digit (a0, a1, ...)
EXECVE = 'type=EXECVE msg=audit(1700000000.{n}:5): argc=2 user={user} a0="{arg}" a1="-la"'


def test_a_word_past_the_settled_events_merges_the_cluster_whose_keyed_word_widened() -> None:
    m = TemplateMiner()
    burst = range(MIN_SETTLED_LINES)
    root = {m.add(EXECVE.format(n=i, user="root", arg="ls")).cluster_id for i in burst}
    assert len(root) == 1
    guest = m.add(EXECVE.format(n=9, user="guest", arg="ls")).cluster_id
    # root's a0 widens to a0="<*>": the key keeps its digit, the new word's is loosened
    widened = m.add(EXECVE.format(n=10, user="root", arg="cat"))
    assert widened.cluster_id in root and 'a0="<*>"' in widened.template
    users = ["test", "admin", "alice", "bob"][: MAX_SETTLED_EVENTS - 2]
    ids = [*root, guest] + [
        m.add(EXECVE.format(n=11 + i, user=u, arg="ls")).cluster_id for i, u in enumerate(users)
    ]
    assert len(set(ids)) == MAX_SETTLED_EVENTS
    # one word more than the settled events: the key is a value, all of them one cluster
    past = m.add(EXECVE.format(n=20, user="carol", arg="ls"))
    assert past.template.startswith("type=EXECVE msg=audit(<*>:<*>): argc=<*> user=<*> ")
    assert {m.resolve(i) for i in ids} == {past.cluster_id}
    assert m.add(EXECVE.format(n=21, user="root", arg="vi")).cluster_id == past.cluster_id
