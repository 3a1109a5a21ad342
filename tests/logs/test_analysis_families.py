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


def _components(texts: dict[int, str], threshold: float) -> dict[int, list[int]]:
    """Families by brute force: every pair compared, components by flood fill."""
    tokens = {i: constant_tokens(t) for i, t in texts.items()}
    todo = sorted(texts)
    out: dict[int, list[int]] = {}
    seen: set[int] = set()
    for start in todo:
        if start in seen:
            continue
        comp, stack = {start}, [start]
        while stack:
            a = stack.pop()
            for b in todo:
                if b not in comp and jaccard(tokens[a], tokens[b]) >= threshold:
                    comp.add(b)
                    stack.append(b)
        seen |= comp
        out[min(comp)] = sorted(comp)
    return out


def test_families_are_the_connected_components_through_adds_widenings_and_removals() -> None:
    import random

    rng = random.Random(7)
    words = ["disk", "full", "node", "job", "started", "failed", "retry", "user", "login", "port"]
    f = TemplateFamilies(threshold=0.5)
    texts: dict[int, str] = {}
    for _ in range(600):
        i = rng.randrange(60)
        if rng.random() < 0.3:
            f.remove(i)
            texts.pop(i, None)
        else:
            text = " <*> ".join(rng.sample(words, rng.randint(1, 4)))
            f.add(i, text)
            texts[i] = text
        assert f.families() == _components(texts, 0.5)
    for i in texts:
        assert f.family_of(i) == _components(texts, 0.5)[f.family_of(i)][0]


def test_a_batch_of_similar_templates_costs_a_bounded_number_of_comparisons_each() -> None:
    # 2,000 templates of one family: each is compared with a member or two, not with all of them
    # (all-pairs is 2,000,000 comparisons); nor do they pile up links (the old code walked them)
    n = 2000
    f = TemplateFamilies()
    for i in range(n):
        f.add(i, f"event {i} happened on <*> with code {i % 97}")
    assert f.families() == {0: list(range(n))}
    assert f.comparisons <= 2 * n
    g = TemplateFamilies()
    for i in range(n):  # each with its own words too: distinct token sets, still one family
        g.add(i, f"request r{i} from user u{i} served by replica llm <*>")
    assert len(g.families()) == 1
    assert g.comparisons <= 2 * n


def test_evicting_the_oldest_of_a_big_family_does_not_rebuild_it_each_time() -> None:
    n, cap = 3000, 500
    f = TemplateFamilies(max_templates=cap)
    for i in range(n):
        f.add(i, f"request r{i} from user u{i} served by replica llm <*>")
    assert f.families() == {n - cap: list(range(n - cap, n))}
    assert f.comparisons <= 2 * n


def test_members_with_ends_finds_only_members_with_that_prefix_and_suffix() -> None:
    f = TemplateFamilies()
    f.add(1, "user bob logged in from host a")
    f.add(2, "user alice logged in from host b")
    f.add(3, "user <*> logged in from host <*>")
    assert f.members(3) == [1, 2, 3]
    assert f.members_with_ends(3, "user ", "host a") == [1]
    assert f.members_with_ends(3, "user a", "") == [2]
    assert f.members_with_ends(3, "", "") == [1, 2, 3]
    assert f.members_with_ends(99, "user ", "") == []


def test_a_flood_of_dissimilar_templates_sharing_words_costs_a_bounded_number_each() -> None:
    # Each shares 5 of its 8 words with every other (J = 5/11 < 0.5): no family, but exact
    # single linkage compared each new one with all before it, n^2 / 2 in all.
    from vigil.logs.analysis._families import MAX_COMPARISONS

    n = 3000
    f = TemplateFamilies()
    for i in range(n):
        f.add(i, f"error in module m{i} code c{i} path p{i}")
    assert len(f.families()) == n
    assert f.comparisons <= MAX_COMPARISONS * n < n * (n - 1) // 2
    # a similar one is still found among them: by its rarest words first
    assert f.add(n, "error in module m7 code c7 path p7 again") == 7


def test_a_template_and_its_keyed_values_widened_are_one_family() -> None:
    """The miner takes ``key=value`` values for variables and widens several at once; the
    widened template kept ``method=`` where the first had ``method=get``, two tokens apart per
    key: J = 3/7 and two families, so the pipeline did not see a widening (no news) but a new
    template."""
    literal = "request handled method=GET route=users status=ok"
    widened = "request handled method=<*> route=<*> status=ok"
    assert constant_tokens(literal) == constant_tokens(widened)
    f = TemplateFamilies()
    f.add(1, literal)
    assert f.add(2, widened) == 1
    assert constant_tokens("x <*>=<*>") == {"x"}  # a masked key: nothing kept of it
