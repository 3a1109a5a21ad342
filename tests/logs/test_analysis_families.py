from __future__ import annotations

from vigil.logs.analysis import TemplateFamilies, constant_tokens, jaccard


def test_connection_failures_are_one_family_and_logins_another() -> None:
    f = TemplateFamilies()
    a = f.add(1, "Connection to <*> failed")
    b = f.add(2, "User <*> logged in")
    c = f.add(3, "Connection to <*> failed after <*> retries")
    assert a == c == 1
    assert b == 2
    assert f.families() == {1: [1, 3], 2: [2]}
    assert f.members(3) == [1, 3]


def test_constant_tokens_ignore_variables_punctuation_and_case() -> None:
    assert constant_tokens("Connection to <*> FAILED: (<*>)") == {"connection", "to", "failed"}
    assert constant_tokens("user=<*> uid <*>") == {"user=", "uid"}
    assert jaccard(constant_tokens("<*> <*>"), constant_tokens("<*>")) == 0.0


def test_families_grow_by_single_linkage_and_keep_the_oldest_id() -> None:
    f = TemplateFamilies(threshold=0.5)
    f.add(5, "disk <*> almost full")
    f.add(9, "backup job <*> started")
    assert f.family_of(9) == 9
    # links to 5 only; then a template linking 5's family and 9's joins them into one
    f.add(12, "disk <*> almost full on node <*>")
    assert f.family_of(12) == 5
    assert f.add(20, "backup job <*> started on disk <*>") == 9
    assert f.add(21, "backup job <*> started on disk <*> node <*>") == 9
    assert f.add(22, "disk <*> full on node <*> backup job started") in (5, 9)


def test_removing_a_bridge_splits_a_family() -> None:
    f = TemplateFamilies(threshold=0.6)
    f.add(1, "alpha beta gamma")
    f.add(2, "alpha beta gamma delta epsilon")
    f.add(3, "gamma delta epsilon")
    assert f.family_of(3) == 1
    f.remove(2)
    assert f.family_of(3) == 3
    assert f.families() == {1: [1], 3: [3]}


def test_a_widened_template_is_relinked() -> None:
    f = TemplateFamilies()
    f.add(1, "Connection to <*> failed")
    assert f.add(2, "Session opened for alice") == 2
    assert f.add(2, "Connection to <*> failed for <*>") == 1
    assert f.template(2) == "Connection to <*> failed for <*>"
    f.merged([(2, 1)])
    assert f.families() == {1: [1]}


def test_memory_stays_bounded_on_an_endless_stream_of_templates() -> None:
    f = TemplateFamilies(max_templates=200)
    for i in range(5000):
        f.add(i, f"event kind{i % 50} happened to w{i} and x{i}")
    assert len(f) == 200
    assert f.members(0) == []
    assert sum(len(m) for m in f.families().values()) == 200
