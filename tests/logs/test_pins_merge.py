"""A kept constant (a pinned ``key=word``) survives the merge of its cluster into another one
that has the same word there: the pin goes with the word, whichever cluster's id survives."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._cluster import MIN_SETTLED_LINES


def test_a_pin_of_the_cluster_folded_away_is_kept_by_the_survivor() -> None:
    m = TemplateMiner()
    for _ in range(MIN_SETTLED_LINES):
        test = m.add("svc gamma failed user=test").cluster_id  # a burst: user=test settles
    guest = m.add("svc alpha failed user=guest").cluster_id  # differs twice: no pin
    m.add("svc eps failed user=test")
    root = m.add("svc gamma failed user=root").cluster_id  # another event: pinned, as test
    m.add("svc delta failed user=test")  # three words at 'gamma': one event with a value
    pinned = m.add("svc gamma failed user=guest")  # another event: pinned, as root
    assert pinned.template == "svc gamma failed user=guest"
    assert m.clusters[pinned.cluster_id].pinned == (3,)
    # three words at 'alpha' for user=guest: the older, unpinned cluster takes the pinned one
    merged = m.add("svc eps failed user=guest")
    assert merged.cluster_id == guest
    assert (pinned.cluster_id, guest) in merged.remapped
    assert merged.template == "svc <*> failed user=guest"
    assert m.clusters[guest].pinned == (3,)  # was (): user=guest stopped being a constant
    # so a fourth word there is another event, not a value that merges 'guest' with it
    admin = m.add("svc gamma failed user=admin")
    assert admin.cluster_id not in (guest, test, root)
    assert m.clusters[guest].template == "svc <*> failed user=guest"
